import { prepareTemplateDatabase } from '@tep/testing';

/** Runs once per jest run: a migrated template database for every spec. */
export default async function globalSetup(): Promise<void> {
  await prepareTemplateDatabase();
}
