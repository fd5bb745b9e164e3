// The public requirement model, exported as `slurmray/requirements` (DESIGN.md, "Public library surface").
export { normalizeName } from "./names.js";
export { compareVersions, satisfies } from "./versions.js";
export { parseRequirement, formatRequirement, type Requirement } from "./requirement.js";
export { evaluateMarker, MARKER_VARIABLES, type MarkerEnvironment } from "./markers.js";
export {
  parseRequirementsFile,
  type FileRequirement,
  type RequirementsFile,
  type RequirementsFileOptions,
} from "./file.js";
export { sameDirectReference, requirementUrlFromPep610, type Pep610DirectUrl } from "./direct-url.js";
export { RequirementError } from "./errors.js";
