/**
 * `jetbus history --json | head`: once the reader is gone, the next write to stdout fails with
 * EPIPE, which Node raises as an 'error' event on process.stdout; unhandled, it ended the command
 * with a stack trace. Nobody reads the rest, so the command stops quietly, as a Unix tool killed
 * by SIGPIPE does, with the exit code it had so far (0 unless something had already failed).
 * A service (up, router, actor: it listens for SIGTERM) is stopped as by SIGTERM instead, so
 * what it holds in flight is finished and acked rather than redelivered after ack_wait.
 */
export function stopQuietlyWhenOutputCloses(stream: NodeJS.WriteStream = process.stdout): void {
  let stopping = false;
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
    if (stopping) return;
    stopping = true;
    if (process.listenerCount("SIGTERM") > 0) process.kill(process.pid, "SIGTERM");
    else process.exit(process.exitCode ?? 0);
  });
}
