using System.Diagnostics;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's spans, on one <see cref="ActivitySource"/>. Names follow the GenAI conventions'
/// <c>{operation} {model}</c>; attributes use the same names as <see cref="GatewayMetrics.Tags"/>. A span exists only
/// when a listener samples it (see <see cref="TracePropagation"/>), and its names and tags are only built when it
/// records data.
/// </summary>
internal static class GatewayActivities
{
    public const string SourceName = "Gateway";

    /// <summary>On an attempt's span: the upstream's own id for its response (<see cref="Resilience.UpstreamRequestId"/>).</summary>
    public const string UpstreamRequestIdTag = "gateway.upstream.request_id";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Routing one model call across an alias's deployments, until its stream ends.</summary>
    public static Activity? StartRouting(string alias)
    {
        var activity = Source.StartActivity("chat", ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.DisplayName = "chat " + alias;
            activity.SetTag(GatewayMetrics.Tags.OperationName, "chat");
            activity.SetTag(GatewayMetrics.Tags.RequestModel, alias);
        }

        return activity;
    }

    /// <summary>
    /// One deployment tried, with its retries as events: until it produced its first token (or failed). The
    /// HTTP request it sends is a child, and carries this trace upstream in <c>traceparent</c>.
    /// </summary>
    public static Activity? StartAttempt(string alias, string provider, string model, int attempt)
    {
        var activity = Source.StartActivity("chat", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.DisplayName = "chat " + model;
            activity.SetTag(GatewayMetrics.Tags.OperationName, "chat");
            activity.SetTag(GatewayMetrics.Tags.RequestModel, alias);
            activity.SetTag(GatewayMetrics.Tags.ProviderName, provider);
            activity.SetTag("gen_ai.response.model", model);
            activity.SetTag("gateway.attempt", attempt);
        }

        return activity;
    }

    /// <summary>For the run engine: one span per run, parent of its nodes' spans.</summary>
    public static Activity? StartRun(string runId, string flowId)
    {
        var activity = Source.StartActivity("run", ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.DisplayName = "run " + flowId;
            activity.SetTag("gateway.run.id", runId);
            activity.SetTag("gateway.flow.id", flowId);
        }

        return activity;
    }

    /// <summary>For the run engine: one span per node, started on the node's own task under the run's span.</summary>
    public static Activity? StartNode(string runId, string nodeId, string nodeType)
    {
        var activity = Source.StartActivity("node", ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.DisplayName = "node " + nodeId;
            activity.SetTag("gateway.run.id", runId);
            activity.SetTag("gateway.node.id", nodeId);
            activity.SetTag("gateway.node.type", nodeType);
        }

        return activity;
    }

    /// <summary>A retry of the deployment an attempt's span stands for: an event on it, as the metrics count one.</summary>
    public static void Retrying(Activity? attempt, int nextAttempt, TimeSpan delay, string reason)
    {
        if (attempt is { IsAllDataRequested: true })
        {
            attempt.AddEvent(new ActivityEvent("retry", tags: new ActivityTagsCollection
            {
                ["gateway.attempt"] = nextAttempt,
                ["gateway.retry.delay_ms"] = (long)delay.TotalMilliseconds,
                [GatewayMetrics.Tags.Reason] = reason,
            }));
        }
    }

    /// <summary>Marks a span failed, with the kind of failure.</summary>
    public static void Failed(Activity? activity, string errorType, string description)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(GatewayMetrics.Tags.ErrorType, errorType);
            activity.SetStatus(ActivityStatusCode.Error, description);
        }
    }
}
