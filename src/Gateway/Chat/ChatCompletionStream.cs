using Gateway.Providers;
using Gateway.Security;
using Gateway.Streaming;
using Gateway.Telemetry;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Gateway.Chat;

/// <summary>
/// Writes a streamed completion whose first upstream update has already arrived: chunks as OpenAI sends them,
/// then the usage chunk if asked for, then <c>[DONE]</c>. A failure after the first byte becomes one final
/// error event and the stream ends without <c>[DONE]</c>, which the official SDKs raise as an error.
/// </summary>
internal sealed class ChatCompletionStream(
    IAsyncEnumerator<ChatResponseUpdate> updates,
    string alias,
    bool includeUsage,
    TokenReservation tokens,
    CallRecorder recorder,
    GatewayMetrics metrics,
    ILogger logger) : IResult
{
    private static ReadOnlySpan<byte> Done => "[DONE]"u8;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var cancellationToken = httpContext.RequestAborted;
        using var sse = new SseWriter(httpContext.Response);
        sse.StartResponse();
        // Disposed before the writer: it may still be writing a keep-alive.
        await using var keepAlive = new SseKeepAlive(
            sse,
            httpContext.RequestServices.GetRequiredService<IOptions<StreamingOptions>>().Value.Heartbeat,
            httpContext.RequestServices.GetRequiredService<TimeProvider>(),
            cancellationToken);

        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var roleSent = false;
        ChatFinishReason? finishReason = null;
        UsageDetails? usage = null;
        var completion = recorder.CapturesContent ? new System.Text.StringBuilder() : null;
        metrics.StreamOpened(Surfaces.V1);
        try
        {
            do
            {
                var update = updates.Current;
                finishReason ??= update.FinishReason;
                // Indexed, not foreach: an interface enumerator would be one more allocation per token.
                var contents = update.Contents;
                for (var i = 0; i < contents.Count; i++)
                {
                    if (contents[i] is UsageContent usageContent)
                    {
                        usage = usageContent.Details;
                    }
                }

                var text = update.Text;
                completion?.Append(text);
                if (text.Length > 0 || !roleSent)
                {
                    await keepAlive.EnterAsync(cancellationToken);
                    await sse.WriteDataAsync(new ChunkFields(id, created, alias, roleSent ? null : "assistant", text, null), ChunkJson.Write, cancellationToken);
                    keepAlive.Exit();
                    roleSent = true;
                }
            }
            while (await updates.MoveNextAsync());

            if (finishReason is null)
            {
                throw new UpstreamException(UpstreamFailure.Protocol, "The upstream stream ended without a finish reason.");
            }

            await keepAlive.StopAsync();
            await sse.WriteDataAsync(new ChunkFields(id, created, alias, null, null, finishReason.Value.Value), ChunkJson.Write, cancellationToken);
            if (includeUsage && usage is not null)
            {
                await sse.WriteDataAsync(
                    new ChatCompletionChunk { Id = id, Created = created, Model = alias, Choices = [], Usage = ChatUsage.From(usage) },
                    ChatJsonContext.Wire.ChatCompletionChunk,
                    cancellationToken);
            }

            await sse.WriteDataAsync(Done, cancellationToken);
            recorder.Succeeded(usage, completion?.ToString());
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; cancelling the token has already aborted the upstream call.
            recorder.Cancelled();
        }
        catch (UpstreamException exception)
        {
            ChatLog.FailedWhileStreaming(logger, alias, exception.Message);
            var (_, error) = ChatErrors.FromUpstream(exception, alias);
            recorder.Failed(Outcomes.StreamError, ChatErrors.TypeOf(error));
            await keepAlive.StopAsync();
            await sse.WriteDataAsync(new OpenAiErrorResponse(error), ChatJsonContext.Wire.OpenAiErrorResponse, CancellationToken.None);
        }
        finally
        {
            // Ends the record if something unexpected (a write to a vanished client) ended the stream.
            recorder.Failed(Outcomes.StreamError, "gateway_error");
            metrics.StreamClosed(Surfaces.V1);
            await updates.DisposeAsync();
            if (usage is not null)
            {
                tokens.Settle(ChatUsage.From(usage).TotalTokens);
            }
        }
    }
}
