/** The three events the seed article's main() produces: one user's life, one correlation. */
export const SEED_SOURCE = "user-service";
export const SEED_CORRELATION = "correlation-1";

export type SeedEvent = Readonly<{ type: string; data: Record<string, string> }>;

export const SEED_EVENTS: readonly SeedEvent[] = [
  { type: "UserCreated", data: { user_id: "user1", username: "john_doe", email: "john@example.com" } },
  { type: "UserUpdated", data: { user_id: "user1", username: "john_doe_updated", email: "john.updated@example.com" } },
  { type: "UserDeleted", data: { user_id: "user1" } },
];
