using Gateway.Telemetry;

namespace Gateway.Tests.Telemetry;

public sealed class PrometheusNamesTests
{
    [Theory]
    [InlineData("gateway.requests", "{request}", true, "gateway_requests_total")]
    [InlineData("gen_ai.client.operation.duration", "s", false, "gen_ai_client_operation_duration_seconds")]
    [InlineData("gateway.usage.cost", "USD", true, "gateway_usage_cost_usd_total")]
    [InlineData("gen_ai.client.token.usage", "{token}", false, "gen_ai_client_token_usage")]
    [InlineData("a-b.c", null, false, "a_b_c")]
    [InlineData("9lives", "By", false, "_9lives_bytes")]
    public void Metric_FollowsTheOpenTelemetryToPrometheusRules(string name, string? unit, bool isCounter, string expected) =>
        Assert.Equal(expected, PrometheusNames.Metric(name, unit, isCounter));
}
