// Code sync: which files are shipped, the import check, the content-addressed code store (objects and
// per-manifest trees that jobs pin), and retention of job dirs, trees and objects.
export { checkImports, formatImportWarning, type ImportWarning } from "./imports.js";
export { DEFAULT_LIMITS, type SizeLimits } from "./limits.js";
export { type CodeProbe, codeProbeSnippet, parseCodeProbe, probeCode } from "./remote.js";
export { cleanJobDirs, parseRetention, type RetentionOptions, type RetentionResult, retentionSnippet } from "./retention.js";
export { projectRoot, type Selection, type SelectedFile, selectFiles } from "./select.js";
export { lastCodeId } from "./sent-state.js";
export { type SyncOptions, type SyncResult, syncCode } from "./sync.js";
