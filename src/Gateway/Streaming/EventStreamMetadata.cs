namespace Gateway.Streaming;

/// <summary>One kind of event on a Server-Sent Events response.</summary>
/// <param name="Name">The <c>event:</c> field; null for plain <c>data:</c> events.</param>
/// <param name="Payload">The type whose JSON is the event's <c>data:</c> line.</param>
/// <param name="Description">When the event is sent.</param>
internal sealed record EventStreamEvent(string? Name, Type Payload, string Description);

/// <summary>Endpoint metadata: the events a <c>text/event-stream</c> response carries, for the OpenAPI document.</summary>
internal sealed record EventStreamMetadata(IReadOnlyList<EventStreamEvent> Events)
{
    public const string ContentType = "text/event-stream";
}

internal static class EventStreamEndpointExtensions
{
    /// <summary>
    /// Declares that the 200 response may be <c>text/event-stream</c> with these events (the OpenAPI filter adds it
    /// beside any JSON body the endpoint also produces).
    /// </summary>
    public static RouteHandlerBuilder ProducesEventStream(this RouteHandlerBuilder builder, params EventStreamEvent[] events) =>
        builder.WithMetadata(new EventStreamMetadata(events));
}
