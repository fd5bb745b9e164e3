// The version --version prints: package.json's, read at start (one small file, no import of the JSON module).
import { readFileSync } from "node:fs";

const manifest = new URL("../../package.json", import.meta.url);
export const VERSION: string = (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
