namespace Gateway.Security;

/// <summary>What a model call is expected to cost before it is made, for reserving against a token budget.</summary>
internal static class TokenEstimate
{
    /// <summary>Reserved for the completion when the caller set no <c>max_tokens</c>; settled to the real count later.</summary>
    public const int DefaultCompletionTokens = 256;

    /// <summary>The prompt's tokens plus the most the completion may take (or 256): what a call reserves.</summary>
    public static int For(IEnumerable<string?> promptTexts, int? maxCompletionTokens) => WithCompletion(Prompt(promptTexts), maxCompletionTokens);

    /// <summary><paramref name="promptTokens"/> plus the most the completion may take (or 256).</summary>
    public static int WithCompletion(int promptTokens, int? maxCompletionTokens) =>
        (int)Math.Min((long)promptTokens + (maxCompletionTokens ?? DefaultCompletionTokens), int.MaxValue);

    /// <summary>About four characters per token for English text with common tokenizers; a guess, settled later.</summary>
    public static int Prompt(IEnumerable<string?> promptTexts) => Prompt(promptTexts.Sum(text => (long)(text?.Length ?? 0)));

    /// <summary>The tokens of a prompt of <paramref name="characters"/> characters (<see cref="PromptText"/>).</summary>
    public static int Prompt(long characters) => (int)Math.Min((characters + CharactersPerToken - 1) / CharactersPerToken, int.MaxValue);

    /// <summary>The characters a token is reckoned at (<see cref="Prompt(IEnumerable{string?})"/>).</summary>
    public const int CharactersPerToken = 4;
}
