// Human durations for the CLI and configuration: "90s", "15m", "24h", "30d", or "0".

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,6})([smhd])?$/.exec(text.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2];
  if (unit === undefined) return amount === 0 ? 0 : undefined;
  return amount * (UNITS[unit] ?? 0);
}
