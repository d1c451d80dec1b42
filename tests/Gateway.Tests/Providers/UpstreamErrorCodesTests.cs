using System.Net;
using Gateway.Chat;
using Gateway.Providers;
using Gateway.Runs;

namespace Gateway.Tests.Providers;

/// <summary>One failure, one name: what <c>/v1</c> answers and what a flow node's <c>node.failed</c> says.</summary>
public sealed class UpstreamErrorCodesTests
{
    public static TheoryData<string, int?, int, string> Failures => new()
    {
        { "Status", 401, 502, "upstream_auth_failed" },
        { "Status", 403, 502, "upstream_auth_failed" },
        { "Status", 429, 503, "upstream_rate_limited" },
        { "Status", 408, 502, "upstream_error" },
        { "Status", 500, 502, "upstream_error" },
        { "Status", 503, 502, "upstream_error" },
        { "CircuitOpen", null, 503, "upstream_unavailable" },
        { "Timeout", null, 504, "upstream_timeout" },
        { "Connection", null, 502, "upstream_error" },
        { "StreamError", null, 502, "upstream_error" },
        { "Protocol", null, 502, "upstream_error" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void AFailure_HasTheSameCodeOnV1AndInAFlowNode(string failure, int? upstreamStatus, int v1Status, string code)
    {
        var exception = new UpstreamException(Enum.Parse<UpstreamFailure>(failure), "it went wrong", (HttpStatusCode?)upstreamStatus);

        var (status, error) = ChatErrors.FromUpstream(exception, "m");
        var node = NodeErrors.FromUpstream(exception, "m");

        Assert.Equal((v1Status, code, "upstream_error"), (status, error.Code, error.Type));
        Assert.Equal(code, node.Code);
        Assert.Equal("Model 'm' failed: it went wrong", node.Message);
    }

    [Fact]
    public void TheUpstreamsVerdictOnTheRequest_IsPassedOnByV1_AndNamedRejectedForANode()
    {
        var exception = new UpstreamException(UpstreamFailure.Status, "no such model", HttpStatusCode.NotFound) { UpstreamCode = "model_not_found" };

        var (status, error) = ChatErrors.FromUpstream(exception, "m");

        Assert.Equal((404, "model_not_found", "invalid_request_error", "no such model"), (status, error.Code, error.Type, error.Message));
        Assert.Equal("upstream_rejected", NodeErrors.FromUpstream(exception, "m").Code);
    }

    [Fact]
    public void ANodeRefusedByItsKeysTokenBudget_IsRateLimitExceeded_AsV1CallsIt()
    {
        var exception = new UpstreamException(UpstreamFailure.Status, "budget", HttpStatusCode.TooManyRequests) { Reason = NodeErrors.TokenLimitReason };

        Assert.Equal("rate_limit_exceeded", NodeErrors.FromUpstream(exception, "m").Code);
    }
}
