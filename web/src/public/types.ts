// The shape of `GET /public/{network}/dashboard.json` (server/src/public_dashboard.rs).

export interface PublicPoint {
  period: string;
  value: number | null;
  n: number | null;
  withheld: boolean;
}

export interface PublicSeries {
  group: string;
  points: PublicPoint[];
}

export interface PublicMeasure {
  name: string;
  unit: string;
  direction: "up" | "down";
  scoring: string;
  series: PublicSeries[];
}

export interface PublicIdea {
  title: string;
  testing: number;
  adopted: number;
  adapted: number;
  abandoned: number;
}

export interface Dashboard {
  name: string;
  description: string;
  min_cell_size: number;
  aims: string[];
  change_ideas: PublicIdea[];
  measures: PublicMeasure[];
}

/** The dashboard's address on this hub. */
export function dashboardUrl(networkId: string): string {
  return `/public/${encodeURIComponent(networkId)}/dashboard.json`;
}
