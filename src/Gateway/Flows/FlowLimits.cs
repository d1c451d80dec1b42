namespace Gateway.Flows;

/// <summary>
/// How large a flow and what its runs render may grow. Flows are small graphs (a Langflow canvas holds tens of
/// nodes); these caps keep one caller's request from costing the gateway much more than the request itself.
/// </summary>
internal static class FlowLimits
{
    /// <summary>The most nodes a flow may have.</summary>
    public const int MaxNodes = 256;

    /// <summary>
    /// The most characters a run's templates may render in all (prompt nodes and llm system messages): 1 Mi, as many
    /// as a whole request body may carry. Without it a template that repeats a node that repeats a variable
    /// multiplies a request of a few KB into gigabytes. And a run saves its whole record with its node events (once for
    /// each burst of them), so what a run may hold is paid for again at each.
    /// </summary>
    public const int MaxRenderedChars = 1 << 20;

    /// <summary>
    /// The most characters a run's llm nodes may send as user messages and receive as output, in all: 4 Mi, four times
    /// what a request body may carry, so that a prompt rendered from a whole request's worth of text can go to two
    /// models (as in a flow that compares them) with room for their answers. A user message is another node's output
    /// taken whole, not rendered: without this, 256 nodes that each take a 1 MB input and echo it back held 256 MB,
    /// sent 256 MB upstream, and the record that is stored on every node event grew with them.
    /// </summary>
    public const int MaxModelTextChars = 4 << 20;
}
