namespace Gateway.Hosting;

/// <summary>How Kestrel schedules request code, bound from <c>Gateway:Hosting</c>.</summary>
internal sealed class HostingOptions
{
    public const string Section = "Gateway:Hosting";

    /// <summary>
    /// Kestrel's <c>UnsafePreferInlineScheduling</c>: request code runs on the thread that read the request instead
    /// of being queued to another, one thread wake-up fewer per request. Safe while nothing on a request path blocks
    /// its thread (the SQLite store hands its work to the thread pool); turn it off for a build that adds such code.
    /// </summary>
    public bool InlineScheduling { get; set; } = true;
}
