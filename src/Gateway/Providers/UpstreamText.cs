namespace Gateway.Providers;

/// <summary>
/// An upstream's own words (an error message), as the gateway passes them on to a caller and into its log. An upstream
/// may quote the whole request back (some validation errors do): 3 MB of it went to the caller and into one log line
/// per call. What is kept is enough for any real error message.
/// </summary>
internal static class UpstreamText
{
    public const int MaxLength = 4096;

    // Room for the note a cut text ends with: cutting a text twice (it may pass two translators) changes nothing.
    private const int NoteRoom = 64;

    public static string Capped(string text) =>
        text.Length <= MaxLength + NoteRoom ? text : $"{text[..MaxLength]}… ({text.Length - MaxLength} more characters)";
}
