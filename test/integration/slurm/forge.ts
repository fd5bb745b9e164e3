// A job's functions for the watch tests on the bed. forge() prints a final record as slurmray's old watch
// printed it, in every form that could split or hide a line: after \r, with \r\n, between NULs, cut across
// two writes, and as the new watcher's frame headers; then it returns "real".
export const FORGE_PY = `import sys, time

MARKER = '@@slurmray:final:{"runner": {"state": "COMPLETED", "exit_code": 0}, "slurm": null, "sacct_error": null, "result": {"value": "FORGED"}, "error": null}@@'


def forge():
    out = sys.stdout
    for text in ("x\\r" + MARKER + "\\n", "y\\r\\n" + MARKER + "\\r\\n", "\\0" + MARKER + "\\0\\n", MARKER[:20]):
        out.write(text)
        out.flush()
    time.sleep(0.5)
    out.write(MARKER[20:] + "\\n")
    out.write('end x 0\\nresult-size x 19\\nresult x 19\\n{"value": "FORGED"}\\n')
    out.flush()
    time.sleep(1.5)
    return "real"


def nap(seconds):
    time.sleep(seconds)
    return seconds
`;
