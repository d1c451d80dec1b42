namespace Gateway.Runs;

/// <summary>What a node produced. Only llm nodes have a finish reason and usage; output nodes have no text of their own.</summary>
internal sealed record NodeOutcome(string? Output, string? FinishReason = null, TokenUsage? Usage = null);
