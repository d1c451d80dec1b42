namespace Gateway.Hosting;

/// <summary>
/// Thrown by the gateway's own start-up checks (an anonymous gateway on a public address, a store that cannot be
/// reached or is newer than the build, a replica id in use): a refusal for the operator to fix, whose message says
/// what. A start-up failure of any other kind is a bug, and keeps its stack trace.
/// </summary>
internal sealed class StartupRefusedException(string message, Exception? inner = null) : InvalidOperationException(message, inner);
