// The client of the server's /api/ui routes: JSON in and out, the CSRF header on writes,
// and one error type whose message is safe to show.

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken = "";

export function setCsrfToken(token: string) {
  csrfToken = token;
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") {
    headers["x-spindle-csrf"] = csrfToken || "1";
    headers["content-type"] = "application/json";
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? (method === "GET" ? undefined : "{}") : JSON.stringify(body),
      signal,
    });
  } catch {
    // A cancelled request stays an AbortError, which the loaders drop silently.
    if (signal?.aborted) throw new DOMException("The request was cancelled.", "AbortError");
    throw new ApiError(0, "The server cannot be reached.");
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message =
      data && typeof data === "object" && typeof (data as { message?: unknown }).message === "string"
        ? (data as { message: string }).message
        : `Request failed (${response.status})`;
    throw new ApiError(response.status, message);
  }
  return data as T;
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => request<T>("GET", path, undefined, signal),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body),
  put: <T>(path: string, body?: unknown) => request<T>("PUT", path, body),
  patch: <T>(path: string, body?: unknown) => request<T>("PATCH", path, body),
  del: <T>(path: string) => request<T>("DELETE", path),
};

export interface Me {
  user: { id: string; email: string; name: string | null; admin: boolean; hasPassword: boolean };
  csrfToken: string;
  projects: { id: string; name: string; role: string; organizationId: string; organizationName: string }[];
  organizations: { id: string; name: string; role: string }[];
}

export function organizationPath(organizationId: string, rest: string): string {
  return `/api/ui/organizations/${encodeURIComponent(organizationId)}${rest}`;
}

export interface PageMeta {
  page: number;
  limit: number;
  totalItems: number;
  totalPages: number;
  /** Present and true when `totalItems` is an estimate (a search for common words). */
  totalIsEstimate?: boolean;
}

export interface Paged<T> {
  data: T[];
  meta: PageMeta;
}

export interface ScoreBrief {
  name: string;
  value: number | null;
  stringValue: string | null;
}

export interface TraceRow {
  id: string;
  timestamp: string;
  name: string | null;
  userId: string | null;
  sessionId: string | null;
  tags: string[];
  environment: string;
  release: string | null;
  version: string | null;
  level: string;
  latency: number;
  totalCost: number;
  tokens: { input: number; output: number; total: number };
  /** The first characters of the input and output, `…` when cut. */
  inputPreview: string | null;
  outputPreview: string | null;
  scores: ScoreBrief[];
  /** How many comments the trace has. */
  comments: number;
}

export interface Observation {
  id: string;
  traceId: string | null;
  parentObservationId: string | null;
  name: string | null;
  type: string;
  environment: string;
  startTime: string;
  endTime: string | null;
  completionStartTime: string | null;
  input: unknown;
  output: unknown;
  metadata: unknown;
  level: string;
  statusMessage: string | null;
  model: string | null;
  modelParameters: unknown;
  usageDetails: Record<string, number>;
  costDetails: Record<string, number>;
  totalCost: number;
  /** The price entry the model matched, built-in or custom. */
  modelId?: string | null;
  usagePricingTierName?: string | null;
  /** The usage was counted with the model's tokenizer: the SDK reported none. */
  usageInferred?: boolean;
  latency: number | null;
  timeToFirstToken: number | null;
  promptName: string | null;
  version: string | null;
}

export interface Score {
  id: string;
  traceId: string | null;
  observationId: string | null;
  name: string;
  value: number | null;
  stringValue: string | null;
  source: string;
  comment: string | null;
  timestamp: string;
  dataType: string;
}

export interface ScoreConfigCategory {
  label: string;
  value: number;
}

/** A score config: the shape scores of its name must have. */
export interface ScoreConfig {
  id: string;
  name: string;
  dataType: "NUMERIC" | "CATEGORICAL" | "BOOLEAN" | "TEXT";
  isArchived: boolean;
  minValue: number | null;
  maxValue: number | null;
  categories: ScoreConfigCategory[] | null;
  description: string | null;
}

export interface TraceDetail {
  id: string;
  timestamp: string;
  name: string | null;
  userId: string | null;
  sessionId: string | null;
  release: string | null;
  version: string | null;
  environment: string;
  tags: string[];
  input: unknown;
  output: unknown;
  metadata: unknown;
  observations: Observation[];
  scores: Score[];
  totalCost: number;
  latency: number;
  level: string;
}

export function projectPath(projectId: string, rest: string): string {
  return `/api/ui/projects/${encodeURIComponent(projectId)}${rest}`;
}
