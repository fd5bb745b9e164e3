// Direct references ("name @ url", VCS pins) and how they compare. A VCS pin is equal to another when the
// VCS, the repository, the ref and the subdirectory agree; archive and directory URLs compare by URL alone
// (a "#sha256=…" fragment is a checksum, not part of the identity).

const VCS_SCHEMES = ["git", "hg", "svn", "bzr"] as const;
export type Vcs = (typeof VCS_SCHEMES)[number];

export interface DirectReference {
  vcs: Vcs | null;
  /** The repository or archive URL, without the "vcs+" prefix, the "@ref" and the fragment. */
  url: string;
  ref: string | null;
  subdirectory: string | null;
  /** The project name from "#egg=name", when given. */
  egg: string | null;
}

/** The content of an installed distribution's direct_url.json (PEP 610). */
export interface Pep610DirectUrl {
  url: string;
  subdirectory?: string;
  vcs_info?: { vcs: string; commit_id: string; requested_revision?: string };
  archive_info?: { hash?: string; hashes?: Record<string, string> };
  dir_info?: { editable?: boolean };
}

export function isUrl(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text) || text.startsWith("file:");
}

function fragmentValue(fragment: string, key: string): string | null {
  const found = fragment.split("&").find((part) => part.startsWith(`${key}=`));
  return found ? decodeURIComponent(found.slice(key.length + 1)) : null;
}

// Trailing "/" and ".git" do not change which repository a URL names.
function canonicalUrl(url: string): string {
  return url.replace(/\/+$/, "").replace(/\.git$/, "");
}

export function parseDirectReference(text: string): DirectReference {
  const hash = text.indexOf("#");
  const base = hash === -1 ? text : text.slice(0, hash);
  const fragment = hash === -1 ? "" : text.slice(hash + 1);
  const scheme = /^([a-z]+)\+/.exec(base)?.[1];
  const vcs = VCS_SCHEMES.find((name) => name === scheme) ?? null;
  let url = vcs ? base.slice(vcs.length + 1) : base;
  let ref: string | null = null;
  if (vcs) {
    // The ref is an "@" in the path; an "@" before the host is a user name (git+ssh://git@host/…).
    const pathStart = url.indexOf("/", url.indexOf("://") + 3);
    const at = url.lastIndexOf("@");
    if (pathStart !== -1 && at > pathStart) {
      ref = url.slice(at + 1);
      url = url.slice(0, at);
    }
  }
  return {
    vcs,
    url: canonicalUrl(url),
    ref: ref || null,
    subdirectory: fragmentValue(fragment, "subdirectory"),
    egg: fragmentValue(fragment, "egg"),
  };
}

/**
 * The requirement URL that reproduces an installed direct reference exactly: a VCS pin at the installed
 * commit (not the branch or tag that was asked for, which may have moved), or the archive/directory URL.
 */
export function requirementUrlFromPep610(info: Pep610DirectUrl): string {
  const url = info.vcs_info ? `${info.vcs_info.vcs}+${info.url}@${info.vcs_info.commit_id}` : info.url;
  return info.subdirectory ? `${url}#subdirectory=${info.subdirectory}` : url;
}

function installedReference(installed: string | Pep610DirectUrl): { ref: DirectReference; commit: string | null } {
  if (typeof installed === "string") return { ref: parseDirectReference(installed), commit: null };
  const vcs = installed.vcs_info;
  const ref = parseDirectReference(vcs ? `${vcs.vcs}+${installed.url}` : installed.url);
  // The ref asked for at install time ("main", "v1.2", or none); the commit it resolved to is matched apart.
  ref.ref = vcs?.requested_revision ?? null;
  ref.subdirectory = installed.subdirectory ?? null;
  return { ref, commit: vcs?.commit_id ?? null };
}

/**
 * Whether an installed direct reference (a URL, or its direct_url.json) is what `wanted` asks for. A wanted
 * ref matches the installed requested revision or the installed commit (also abbreviated, 7+ hex digits).
 */
export function sameDirectReference(wanted: string, installed: string | Pep610DirectUrl): boolean {
  const want = parseDirectReference(wanted);
  const { ref: have, commit } = installedReference(installed);
  if (want.vcs !== have.vcs || want.url !== have.url || want.subdirectory !== have.subdirectory) return false;
  if (want.ref === have.ref) return true;
  return want.ref !== null && commit !== null && /^[0-9a-f]{7,40}$/.test(want.ref) && commit.startsWith(want.ref);
}
