using System.Globalization;

namespace Gateway.Security;

/// <summary>
/// OpenAI's <c>x-ratelimit-*</c> headers for the caller key's own limits, which clients read to pace themselves: the
/// requests family for a key with <c>RequestsPerMinute</c>, the tokens family for one with <c>TokensPerMinute</c>, each
/// from the take this request made (<see cref="BucketStanding"/>), never from another read of the store. Attached by
/// <see cref="RequestRateLimiting"/> to the requests of keys with a limit only, and written as the response starts, so a
/// stream's headers carry them and the callers of keys without limits pay nothing. They go on every answer of an endpoint
/// marked <see cref="OnEveryAnswer"/> (<c>/v1/chat/completions</c>), and on a 429 anywhere.
/// </summary>
internal sealed class RateLimitHeaders
{
    public const string LimitRequests = "x-ratelimit-limit-requests";
    public const string RemainingRequests = "x-ratelimit-remaining-requests";
    public const string ResetRequests = "x-ratelimit-reset-requests";
    public const string LimitTokens = "x-ratelimit-limit-tokens";
    public const string RemainingTokens = "x-ratelimit-remaining-tokens";
    public const string ResetTokens = "x-ratelimit-reset-tokens";

    public static readonly string[] Names = [LimitRequests, RemainingRequests, ResetRequests, LimitTokens, RemainingTokens, ResetTokens];

    private readonly HttpResponse _response;
    private readonly bool _onEveryAnswer;

    /// <summary>Endpoint metadata: every answer of the endpoint carries the headers, not only a 429.</summary>
    public sealed class OnEveryAnswer
    {
        public static readonly OnEveryAnswer Metadata = new();

        private OnEveryAnswer()
        {
        }
    }

    private RateLimitHeaders(HttpResponse response, bool onEveryAnswer)
    {
        _response = response;
        _onEveryAnswer = onEveryAnswer;
    }

    /// <summary>The key's <c>RequestsPerMinute</c> bucket, as this request's take left it.</summary>
    public BucketStanding? Requests { get; set; }

    /// <summary>The key's <c>TokensPerMinute</c> bucket, as this request's reservation (and a settlement before the headers) left it.</summary>
    public BucketStanding? Tokens { get; set; }

    /// <summary>For a request of a key with a limit: the headers, written as the response starts.</summary>
    public static RateLimitHeaders Attach(HttpContext http, bool onEveryAnswer)
    {
        var headers = new RateLimitHeaders(http.Response, onEveryAnswer);
        http.Features.Set(headers);
        http.Response.OnStarting(static headers => ((RateLimitHeaders)headers).Write(), headers);
        return headers;
    }

    /// <summary>The tokens family from a reservation of a key with <c>TokensPerMinute</c> (a key without one has none to say).</summary>
    public static void Record(HttpContext http, TokenReservation reservation)
    {
        if (reservation.Standing is { } standing && http.Features.Get<RateLimitHeaders>() is { } headers)
        {
            headers.Tokens = standing;
        }
    }

    private Task Write()
    {
        if (_onEveryAnswer || _response.StatusCode == StatusCodes.Status429TooManyRequests)
        {
            Write(Requests, LimitRequests, RemainingRequests, ResetRequests);
            Write(Tokens, LimitTokens, RemainingTokens, ResetTokens);
        }

        return Task.CompletedTask;
    }

    private void Write(BucketStanding? bucket, string limit, string remaining, string reset)
    {
        if (bucket is null)
        {
            return;
        }

        var (left, untilFull) = bucket.Now();
        _response.Headers[limit] = bucket.Capacity.ToString(CultureInfo.InvariantCulture);
        _response.Headers[remaining] = left.ToString(CultureInfo.InvariantCulture);
        _response.Headers[reset] = Duration(untilFull);
    }

    /// <summary>
    /// A wait as OpenAI writes its resets, which is Go's duration format: <c>20ms</c>, <c>1s</c>, <c>1m30.5s</c>,
    /// <c>6m0s</c>, <c>1h0m0s</c>, <c>0s</c>; here in whole milliseconds, as OpenAI's are.
    /// </summary>
    public static string Duration(TimeSpan wait)
    {
        var milliseconds = (long)wait.TotalMilliseconds;
        if (milliseconds < 1000)
        {
            return milliseconds == 0 ? "0s" : $"{milliseconds}ms";
        }

        var hours = milliseconds / 3_600_000;
        var minutes = milliseconds / 60_000 % 60;
        var seconds = (milliseconds % 60_000 / 1000m).ToString("0.###", CultureInfo.InvariantCulture);
        return hours > 0 ? $"{hours}h{minutes}m{seconds}s"
            : minutes > 0 ? $"{minutes}m{seconds}s"
            : $"{seconds}s";
    }
}

/// <summary>
/// One of the caller key's buckets as a take (granted or not) found it, followed from there without asking the store
/// again: a <see cref="TokenBucket"/> of its own, which refills at the bucket's rate and takes in what the request
/// settles before its headers go, as the bucket itself does. Other requests' takes meanwhile are not seen; their own
/// answers say them.
/// </summary>
internal sealed class BucketStanding(int capacity, TimeSpan window, double available, TimeProvider time)
{
    private readonly TokenBucket _bucket = new(capacity, window, time, available);

    public int Capacity { get; } = capacity;

    /// <summary>Gives back (positive) or charges (negative) permits, as <see cref="IRateBuckets.AdjustAsync"/> does.</summary>
    public void Adjust(long permits) => _bucket.Adjust(permits);

    /// <summary>
    /// The whole permits the bucket holds now (never below 0, though a debt is), and the time until it is full again:
    /// OpenAI's reset is "the time until the rate limit resets to its initial state", a full bucket, not the wait for
    /// the next request (that is a 429's <c>Retry-After</c>, never longer but for its rounding up to whole seconds).
    /// Rounded up to the millisecond, as every wait of a bucket is (<see cref="TokenBucket.WaitFor"/>).
    /// </summary>
    public (long Remaining, TimeSpan UntilFull) Now()
    {
        var (left, untilFull) = _bucket.Read();
        return ((long)Math.Max(0, Math.Floor(left)), untilFull);
    }
}
