// Loaded by every mocha run before the tests: nothing in a test may reach for
// the network. google-auth-library would otherwise probe the GCE metadata
// server (a DNS name and 169.254.169.254) when an Admin SDK client starts.
process.env.METADATA_SERVER_DETECTION ??= "none";
process.env.NO_UPDATE_NOTIFIER ??= "1";
