using Microsoft.Net.Http.Headers;

namespace Gateway.Flows;

/// <summary>
/// The preconditions a request puts on a saved flow (RFC 9110 §13.1): <c>If-Match</c>, that the flow still has one of
/// the tags it lists (or, for <c>*</c>, any); <c>If-None-Match</c>, that it has none of them (or, for <c>*</c>, that there
/// is none). Tags compare by their value, weak or not: a compressing proxy (nginx's <c>gzip</c>, a CDN) marks a tag weak
/// on its way to the client, and the flow it names is the same. (RFC 9110 compares <c>If-Match</c> strongly; a client
/// behind such a proxy could then never write, and the 412's advice to read the flow again would loop for ever.)
/// </summary>
internal sealed class FlowConditions
{
    private const string Any = "*";

    /// <summary>The tags each header lists, <c>*</c> for any; null when the header was not sent.</summary>
    private readonly HashSet<string>? _ifMatch, _ifNoneMatch;

    private FlowConditions(HashSet<string>? ifMatch, HashSet<string>? ifNoneMatch) => (_ifMatch, _ifNoneMatch) = (ifMatch, ifNoneMatch);

    /// <summary>The test a replace or a delete hands the store (<see cref="AllowWrite"/>); null when the request sent neither header.</summary>
    public Func<string, bool>? WritePrecondition => _ifMatch is null && _ifNoneMatch is null ? null : AllowWrite;

    /// <summary>
    /// Reads the two headers, as their values came (null when not sent). False, with the name of the header at fault,
    /// when one was sent and is not <c>*</c> or a list of quoted tags: an empty one included, which a client whose tag
    /// went missing sends, and which would otherwise be a write without its precondition.
    /// </summary>
    public static bool TryRead(string? ifMatch, string? ifNoneMatch, out FlowConditions conditions, out string? badHeader)
    {
        var matchRead = TryReadTags(ifMatch, out var matching);
        var noneMatchRead = TryReadTags(ifNoneMatch, out var notMatching);
        badHeader = !matchRead ? HeaderNames.IfMatch : !noneMatchRead ? HeaderNames.IfNoneMatch : null;
        conditions = new FlowConditions(matching, notMatching);
        return badHeader is null;
    }

    /// <summary>Whether <c>If-Match</c> lets a request on the flow with <paramref name="tag"/> go ahead.</summary>
    public bool Matches(string tag) => _ifMatch is null || _ifMatch.Contains(Any) || _ifMatch.Contains(tag);

    /// <summary>Whether <c>If-None-Match</c> names the flow with <paramref name="tag"/>: for a read, a 304; for a write, a 412.</summary>
    public bool NoneMatchNames(string tag) => _ifNoneMatch is not null && (_ifNoneMatch.Contains(Any) || _ifNoneMatch.Contains(tag));

    /// <summary>Whether a replace or a delete of the flow with <paramref name="tag"/> may go ahead.</summary>
    public bool AllowWrite(string tag) => Matches(tag) && !NoneMatchNames(tag);

    private static bool TryReadTags(string? header, out HashSet<string>? tags)
    {
        tags = null;
        if (header is null)
        {
            return true;
        }

        if (!EntityTagHeaderValue.TryParseStrictList([header], out var parsed) || parsed.Count == 0
            || (parsed.Count > 1 && parsed.Any(tag => tag.Equals(EntityTagHeaderValue.Any))))
        {
            return false; // "*" stands alone (RFC 9110: If-Match = "*" / #entity-tag)
        }

        tags = parsed.Select(tag => tag.Tag.Value!).ToHashSet(StringComparer.Ordinal);
        return true;
    }
}
