// Types for gateway.mjs, for the TypeScript tests in ts/.
export interface RunningGateway {
  baseUrl: string;
  stop(): Promise<void>;
  output(): string;
}

export function startGateway(settings?: Record<string, string>): Promise<RunningGateway>;
