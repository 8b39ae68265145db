import { randomBytes } from "node:crypto";

/** 96 random bits, base64url (16 characters): ticket and queue entry ids. */
export function randomId(): string {
  return randomBytes(12).toString("base64url");
}
