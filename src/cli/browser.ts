// Opens a URL in the user's browser when there is one: `open` on macOS, `xdg-open` under a graphical session
// on Linux. Never fails: without a browser the printed URL is all there is.
function opener(): string | null {
  if (process.platform === "darwin") return "open";
  // Without a display, xdg-open would start a text browser inside this terminal.
  if (process.platform === "linux" && (process.env["DISPLAY"] || process.env["WAYLAND_DISPLAY"])) return "xdg-open";
  return null;
}

/** Fire and forget: resolves once the opener is started (child_process loads only then). */
export async function openBrowser(url: string): Promise<void> {
  const command = opener();
  if (!command) return;
  const { spawn } = await import("node:child_process");
  try {
    const child = spawn(command, [url], { stdio: "ignore", detached: true });
    child.on("error", () => {}); // not installed: the URL is printed already
    child.unref();
  } catch {
    // spawn itself refused (no such file on some platforms): the URL is printed already
  }
}
