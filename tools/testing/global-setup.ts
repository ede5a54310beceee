// Placeholder replaced when the data layer lands: prepares the test database.
export default function globalSetup(): void {}
