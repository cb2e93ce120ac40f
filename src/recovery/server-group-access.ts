/**
 * Whether the recovery could read Nova's server groups. A refused listing (403: the credentials lack
 * os_compute_api:os-server-groups:index for all projects) does not stop a recovery, but it then
 * evacuates the members of an anti-affinity group together, which Nova may refuse or place badly:
 * that is the server_groups_unreadable alarm (status, the status API, metrics), not only a log line.
 * It is raised by the refusal and cleared by the next listing that succeeds (the next recovery's).
 */
export class ServerGroupAccess {
  private refusal: { host: string; message: string; sinceMs: number } | null = null;

  refused(host: string, message: string, nowMs: number): void {
    this.refusal = { host, message, sinceMs: this.refusal?.sinceMs ?? nowMs };
  }

  read(): void {
    this.refusal = null;
  }

  alarms(): Array<{ kind: string; message: string; since: string }> {
    const r = this.refusal;
    if (!r) return [];
    const since = new Date(r.sinceMs).toISOString();
    return [
      {
        kind: 'server_groups_unreadable',
        since,
        message:
          `recovery of ${r.host} could not list server groups (${r.message}): anti-affinity members were NOT ` +
          'evacuated one at a time; give the compute credentials the server-groups index policy for all projects',
      },
    ];
  }
}
