// The proctor runs in its own process, left running by `tps lab start` (the candidate's commands
// come and go; the day goes on). Stopping it: SIGTERM (it stops the load and clears the day's
// faults), then SIGKILL if it has not gone within the grace.
const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

export async function stopProctorProcess(pid: number, graceMs = 15_000): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}
