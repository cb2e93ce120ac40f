/** Why a fence failed, in a few words: the fencer's error, else the last attempt's detail or exit code. */
export function fenceFailureReason(r: {
  error?: string;
  attempts?: Array<{ detail?: string; exitCode?: number | null; device?: string }>;
}): string {
  const last = r.attempts?.[r.attempts.length - 1];
  const why =
    r.error ??
    last?.detail ??
    (last ? `${last.device ?? 'device'} exit ${last.exitCode ?? 'none (timed out or killed)'}` : 'no fence device answered');
  return clip(why.replace(/\s+/g, ' ').trim(), 80);
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
