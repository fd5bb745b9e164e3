// Code sync: which files are shipped, the import check, incremental transfer, and job dir retention.
export { checkImports, formatImportWarning, type ImportWarning } from "./imports.js";
export { DEFAULT_LIMITS, type SizeLimits } from "./limits.js";
export { codeProbeSnippet, parseCodeProbe, probeCodeStamp } from "./remote.js";
export { cleanJobDirs, parseRetention, type RetentionOptions, type RetentionResult, retentionSnippet } from "./retention.js";
export { projectRoot, type Selection, type SelectedFile, selectFiles } from "./select.js";
export { type SyncOptions, type SyncResult, syncCode } from "./sync.js";
