using System.Net;
using Gateway.Chat;
using Gateway.Providers;
using Gateway.Runs;

namespace Gateway.Tests.Providers;

/// <summary>One failure, one name and one wording: what <c>/v1</c> answers and what a flow node's <c>node.failed</c> says.</summary>
public sealed class UpstreamErrorCodesTests
{
    private const string Failed = "Model 'm' failed: it went wrong";

    public static TheoryData<string, int?, int, string, string> Failures => new()
    {
        // A refused provider key: /v1's message is the gateway's own, which names the provider, not the alias.
        { "Status", 401, 502, "upstream_auth_failed", "it went wrong" },
        { "Status", 403, 502, "upstream_auth_failed", "it went wrong" },
        { "Status", 407, 502, "upstream_auth_failed", "it went wrong" },
        { "Status", 429, 503, "upstream_rate_limited", "Every deployment of model 'm' is rate limited: it went wrong" },
        { "Status", 408, 502, "upstream_error", Failed },
        { "Status", 500, 502, "upstream_error", Failed },
        { "Status", 503, 502, "upstream_error", Failed },
        { "Status", null, 502, "upstream_error", Failed },
        { "CircuitOpen", null, 503, "upstream_unavailable", "Every deployment of model 'm' is unavailable: it went wrong" },
        { "Timeout", null, 504, "upstream_timeout", "Model 'm' did not answer in time: it went wrong" },
        { "Connection", null, 502, "upstream_error", Failed },
        { "StreamError", null, 502, "upstream_error", Failed },
        { "Protocol", null, 502, "upstream_error", Failed },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void AFailure_HasTheSameCodeOnV1AndInAFlowNode(string failure, int? upstreamStatus, int v1Status, string code, string v1Message)
    {
        var exception = new UpstreamException(Enum.Parse<UpstreamFailure>(failure), "it went wrong", (HttpStatusCode?)upstreamStatus);

        var (status, error) = ChatErrors.FromUpstream(exception, "m");
        var node = NodeErrors.FromUpstream(exception, "m");

        Assert.Equal((v1Status, code, "upstream_error", v1Message), (status, error.Code, error.Type, error.Message));
        // Until 2026-12-06 (night) a node said "failed" of every failure, a timeout and a rate limit too.
        Assert.Equal((code, code == "upstream_auth_failed" ? Failed : v1Message), (node.Code, node.Message));
    }

    [Theory]
    [InlineData(429)]
    [InlineData(null)]
    public void ARateLimitOrOpenCircuit_AfterOtherFailures_IsAnError_NotEveryDeploymentRateLimitedOrUnavailable(int? status)
    {
        var exception = new UpstreamException(status is null ? UpstreamFailure.CircuitOpen : UpstreamFailure.Status, "it went wrong", (HttpStatusCode?)status)
        {
            EarlierFailedOtherwise = true,
        };

        var (v1Status, error) = ChatErrors.FromUpstream(exception, "m");

        Assert.Equal((502, "upstream_error", Failed), (v1Status, error.Code, error.Message));
        Assert.Equal("upstream_error", NodeErrors.FromUpstream(exception, "m").Code);
    }

    [Fact]
    public void AnExhaustedQuota_HasItsOwnCodeOnV1AndInAFlowNode_NotARateLimits()
    {
        var exception = new UpstreamException(UpstreamFailure.Status, "it went wrong", HttpStatusCode.TooManyRequests) { QuotaExhausted = true };

        var (status, error) = ChatErrors.FromUpstream(exception, "m");
        var node = NodeErrors.FromUpstream(exception, "m");

        Assert.Equal((502, "upstream_quota_exhausted"), (status, error.Code));
        Assert.Equal(("upstream_quota_exhausted", error.Message), (node.Code, node.Message));
        Assert.Equal("Every deployment of model 'm' has run out of quota: it went wrong", node.Message);
    }

    [Theory]
    [InlineData(404, "model_not_found")]
    [InlineData(400, null)]
    public void TheUpstreamsVerdictOnTheRequest_IsPassedOnByV1_AndNamedRejectedForANode(int upstreamStatus, string? upstreamCode)
    {
        var exception = new UpstreamException(UpstreamFailure.Status, "not like this", (HttpStatusCode)upstreamStatus) { UpstreamCode = upstreamCode };

        var (status, error) = ChatErrors.FromUpstream(exception, "m");
        var node = NodeErrors.FromUpstream(exception, "m");

        Assert.Equal((upstreamStatus, upstreamCode, "invalid_request_error", "not like this"), (status, error.Code, error.Type, error.Message));
        Assert.Equal(("upstream_rejected", "Model 'm' failed: not like this"), (node.Code, node.Message));
    }

    [Fact]
    public void ANodeRefusedByItsKeysTokenBudget_IsRateLimitExceeded_AsV1CallsIt()
    {
        var exception = new UpstreamException(UpstreamFailure.Status, "budget", HttpStatusCode.TooManyRequests) { Reason = NodeErrors.TokenLimitReason };

        var node = NodeErrors.FromUpstream(exception, "m");

        Assert.Equal(("rate_limit_exceeded", "Model 'm' was not called: budget"), (node.Code, node.Message));
    }
}
