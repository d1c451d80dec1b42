namespace Gateway.Providers;

/// <summary>One upstream, bound from <c>Gateway:Providers:{name}</c>.</summary>
internal sealed class ProviderOptions
{
    public const string SimulatedType = "simulated";
    public const string OpenAiType = "openai";

    /// <summary><c>openai</c> (any OpenAI-compatible server) or <c>simulated</c>.</summary>
    public string Type { get; set; } = "";

    /// <summary>The API root, e.g. <c>https://api.openai.com/v1</c>. Required for <c>openai</c>.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Sent as a bearer token; never returned or logged. Empty for servers that need none.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// OpenAI-compatible only: the member a completion's cap (<c>max_tokens</c> or <c>max_completion_tokens</c> from a
    /// caller, <c>maxTokens</c> from a flow) is sent in. <c>max_completion_tokens</c>, OpenAI's, which its reasoning
    /// models require; or <c>max_tokens</c>, for servers that read only that one (Ollama, LM Studio). Whichever name a
    /// caller used, an alias's deployments then each get the one their server reads.
    /// </summary>
    public string MaxTokensField { get; set; } = MaxCompletionTokensName;

    /// <summary>
    /// OpenAI-compatible only: whether an assistant turn's thinking sent back by the caller (<c>reasoning_content</c>)
    /// goes on to this server. DeepSeek's thinking mode requires it on a turn that called tools; other servers
    /// (OpenAI, Cerebras) refuse a message member they do not know, so it is off unless set.
    /// </summary>
    public bool SendsReasoningBack { get; set; }

    /// <summary>
    /// OpenAI-compatible only: whether an image a caller links to (an <c>https:</c> or <c>http:</c> URL in an
    /// <c>image_url</c> part) goes on to this server, which then fetches it. True by default: OpenAI fetches links from
    /// its own network. False for a server that would fetch them from inside the operator's (vLLM, SGLang, a local
    /// llama.cpp): any key could have it request internal addresses (<c>http://169.254.169.254/</c>, an admin page).
    /// Images sent as data URLs go on either way.
    /// </summary>
    public bool ImageLinks { get; set; } = true;

    public const string MaxCompletionTokensName = "max_completion_tokens";
    public const string MaxTokensName = "max_tokens";

    /// <summary>Simulated only: the pause before each token.</summary>
    public int TokenDelayMs { get; set; } = 20;
}
