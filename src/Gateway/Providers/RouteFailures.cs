namespace Gateway.Providers;

/// <summary>
/// What a routed call's failed deployments have in common, which decides what its caller is told about the last one.
/// Two that failed differently (a 500, then a 429) make no "every deployment is rate limited". A 429 and an open
/// circuit are both a wait, though: a caller told so waits the shortest wait any of them named, and tries again.
/// </summary>
internal struct RouteFailures
{
    private string? _first;
    private bool _mixed;
    private bool _waitsOfBothKinds;
    private TimeSpan? _shortestWait;

    /// <summary>Counts one deployment's failure (before <see cref="MarkLast"/> has touched it).</summary>
    public void Add(UpstreamException exception)
    {
        var code = UpstreamErrorCodes.Of(exception);
        _first ??= code;
        if (IsWait(code) && IsWait(_first))
        {
            _waitsOfBothKinds |= code != _first;
            _shortestWait = exception.RetryAfter is { } wait && (_shortestWait is null || wait < _shortestWait) ? wait : _shortestWait;
        }
        else
        {
            _mixed |= code != _first;
        }
    }

    /// <summary>Tells the last failure, the one the caller hears of, what the earlier ones were.</summary>
    public readonly void MarkLast(UpstreamException last)
    {
        last.EarlierFailedOtherwise = _mixed;
        last.WaitedOtherwise = !_mixed && _waitsOfBothKinds;
        if (!_mixed && IsWait(_first))
        {
            last.RetryAfter = _shortestWait;
        }
    }

    private static bool IsWait(string? code) => code is UpstreamErrorCodes.RateLimited or UpstreamErrorCodes.Unavailable;
}
