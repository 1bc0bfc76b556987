"""The external auditor's evidence pack: files, report, manifest, checksums and signature."""
