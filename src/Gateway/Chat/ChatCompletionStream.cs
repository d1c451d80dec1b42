using Gateway.Providers;
using Gateway.Providers.Tools;
using Gateway.Security;
using Gateway.Streaming;
using Gateway.Telemetry;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Gateway.Chat;

/// <summary>
/// Writes a streamed completion whose first upstream update has already arrived: chunks as OpenAI sends them,
/// then the usage chunk if asked for, then <c>[DONE]</c>. A failure after the first byte becomes one final
/// error event and the stream ends without <c>[DONE]</c>, which the official SDKs raise as an error (the .NET one once
/// the stream is cut after it: <see cref="ErrorEventBlindClients"/>); so does the
/// end of the shutdown drain (<paramref name="call"/>, which it disposes of, is cancelled by either that or the caller),
/// and a client that is no longer reading by then is cut off when the drain closes (<see cref="ShutdownDrain.Closing"/>).
/// A client that stops reading is cut off at the call's total timeout (<paramref name="deadline"/>, <see cref="StalledClientCut"/>).
/// A stream that ends has a finish reason: <see cref="RoutedChat"/> fails one that has none.
/// Every chunk carries the upstream's <c>service_tier</c> and <c>system_fingerprint</c> once it has said them
/// (<see cref="ServedBy"/>), as OpenAI writes them on every chunk.
/// </summary>
internal sealed class ChatCompletionStream(
    IAsyncEnumerator<ChatResponseUpdate> updates,
    CancellationTokenSource call,
    string alias,
    bool includeUsage,
    TokenReservation tokens,
    CallRecorder recorder,
    GatewayMetrics metrics,
    ILogger logger,
    CancellationToken deadline) : IResult
{
    private static ReadOnlySpan<byte> Done => "[DONE]"u8;

    private readonly JsonWrite<ChunkFields> _writeChunk = includeUsage ? ChunkJson.WriteWithNullUsage : ChunkJson.Write;

    /// <summary>The call was stopped by the shutdown drain, not by the caller leaving.</summary>
    private bool IsShuttingDown(CancellationToken callerToken) => call.IsCancellationRequested && !callerToken.IsCancellationRequested;

    private static string? NullIfEmpty(string text) => text.Length > 0 ? text : null;

    /// <summary>A whole answer's end: the finish chunk, the usage chunk when asked for, <c>[DONE]</c>, and its record.</summary>
    private async Task EndWholeAsync(
        SseWriter sse, string id, long created, ServedBy? servedBy, ChatFinishReason finishReason, bool calledFunctions, UsageDetails? usage, long outputChunks,
        System.Text.StringBuilder? completion, CancellationToken cancellationToken)
    {
        await sse.WriteDataAsync(
            new ChunkFields(id, created, alias, servedBy, null, null, CompletionMessages.FinishReason(finishReason, calledFunctions)), _writeChunk, cancellationToken);
        var counted = recorder.Counted(usage, outputChunks);
        if (includeUsage)
        {
            await sse.WriteDataAsync(
                new ChatCompletionChunk
                {
                    Id = id,
                    Created = created,
                    Model = alias,
                    ServiceTier = servedBy?.ServiceTier,
                    SystemFingerprint = servedBy?.SystemFingerprint,
                    Choices = [],
                    Usage = ChatUsage.From(counted),
                },
                ChatJsonContext.Wire.ChatCompletionChunk,
                cancellationToken);
        }

        await sse.WriteDataAsync(Done, cancellationToken);
        recorder.Succeeded(counted, completion?.ToString());
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var cancellationToken = httpContext.RequestAborted;
        // A client that stopped reading holds the write under way, and with it the upstream call and the gateway's
        // stop, until the host gives up (the drain plus ShutdownDrain.Margin): a few seconds after the drain has run
        // out, time its error event had to go out, the connection is cut.
        using var cut = httpContext.RequestServices.GetRequiredService<ShutdownDrain>().Closing
            .UnsafeRegister(static context => ((HttpContext)context!).Abort(), httpContext);
        var clock = httpContext.RequestServices.GetRequiredService<TimeProvider>();
        using var stalled = new StalledClientCut(httpContext, clock, deadline, call.Token);
        using var sse = new SseWriter(httpContext.Response);
        sse.StartResponse();
        var id = CompletionIds.Next();
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var first = updates.Current;
        var finishReason = first.FinishReason;
        var servedBy = ServedBy.Of(first);
        var usage = UpdateContents.Of(first);
        var firstReasoning = UpdateContents.Reasoning(first);
        var firstCalls = RawToolCall.AnyIn(first.Contents) ? first.Contents : null;
        var calledFunctions = firstCalls is not null;
        var firstRefusal = RefusalContent.Of(first.Contents);
        var outputChunks = first.Text.Length > 0 || firstReasoning.Length > 0 || firstCalls is not null || firstRefusal.Length > 0 ? 1L : 0L;
        var completion = recorder.CapturesContent ? new System.Text.StringBuilder(first.Text) : null;
        completion?.Append(firstRefusal);
        if (completion is not null && firstCalls is not null)
        {
            ToolCallText.Append(completion, firstCalls);
        }

        var keepAlive = new SseKeepAlive(
            sse,
            httpContext.RequestServices.GetRequiredService<IOptions<StreamingOptions>>().Value.Heartbeat,
            clock,
            cancellationToken);
        metrics.StreamOpened(Surfaces.V1);
        try
        {
            // The first chunk carries the role, and whatever text the first update has. The keep-alives are not armed
            // until it is out, so nothing else writes yet and this write needs no gate.
            await sse.WriteDataAsync(
                new ChunkFields(
                    id, created, alias, servedBy, "assistant", firstCalls is null && firstRefusal.Length == 0 ? first.Text : NullIfEmpty(first.Text), null,
                    NullIfEmpty(firstReasoning), firstCalls, NullIfEmpty(firstRefusal)),
                _writeChunk,
                cancellationToken);
            keepAlive.Start();
            while (await updates.MoveNextAsync())
            {
                var update = updates.Current;
                finishReason ??= update.FinishReason;
                servedBy = ServedBy.Of(update) ?? servedBy;
                usage = UpdateContents.Of(update) ?? usage;
                var text = update.Text;
                var reasoning = UpdateContents.Reasoning(update);
                var calls = RawToolCall.AnyIn(update.Contents) ? update.Contents : null;
                calledFunctions |= calls is not null;
                var refusal = RefusalContent.Of(update.Contents);
                completion?.Append(text).Append(refusal);
                if (completion is not null && calls is not null)
                {
                    ToolCallText.Append(completion, calls);
                }

                if (text.Length > 0 || reasoning.Length > 0 || calls is not null || refusal.Length > 0)
                {
                    outputChunks++;
                    await keepAlive.EnterAsync(cancellationToken);
                    await sse.WriteDataAsync(
                        new ChunkFields(id, created, alias, servedBy, null, NullIfEmpty(text), null, NullIfEmpty(reasoning), calls, NullIfEmpty(refusal)),
                        _writeChunk,
                        cancellationToken);
                    keepAlive.Exit();
                }
            }

            await keepAlive.StopAsync();
            await EndWholeAsync(sse, id, created, servedBy, finishReason!.Value, calledFunctions, usage, outputChunks, completion, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && stalled.CutOff)
        {
            // Cut off at the total timeout, its client not reading: a timeout, not a caller who left.
            ChatLog.FailedWhileStreaming(logger, alias, "the total timeout ran out while the client was not reading");
            recorder.Failed(Outcomes.StreamError, UpstreamErrorCodes.Timeout, outputChunks, usage);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away; cancelling the token has already aborted the upstream call.
            recorder.Cancelled(outputChunks, usage);
        }
        catch (UpstreamException exception) when (!IsShuttingDown(cancellationToken))
        {
            ChatLog.FailedWhileStreaming(logger, alias, exception.Message);
            var (_, error) = ChatErrors.FromUpstream(exception, alias);
            recorder.Failed(Outcomes.StreamError, ChatErrors.TypeOf(exception), outputChunks, usage);
            await keepAlive.StopAsync();
            await sse.WriteDataAsync(new OpenAiErrorResponse(error), ChatJsonContext.Wire.OpenAiErrorResponse, CancellationToken.None);
            ErrorEventBlindClients.CutIfOne(httpContext);
        }
        catch (Exception exception) when (exception is OperationCanceledException or UpstreamException && IsShuttingDown(cancellationToken))
        {
            // Not the caller: the gateway is stopping and its drain ran out (the abort may surface as an upstream error).
            await keepAlive.StopAsync();
            if (finishReason is { } finished)
            {
                // The answer was whole, waiting only for its usage or [DONE]: it ends as one, not as a call to pay again.
                await EndWholeAsync(sse, id, created, servedBy, finished, calledFunctions, usage, outputChunks, completion, cancellationToken);
            }
            else
            {
                recorder.Failed(Outcomes.StreamError, ChatErrors.ShuttingDownCode, outputChunks, usage);
                await sse.WriteDataAsync(new OpenAiErrorResponse(ChatErrors.ShuttingDown(alias)), ChatJsonContext.Wire.OpenAiErrorResponse, CancellationToken.None);
                ErrorEventBlindClients.CutIfOne(httpContext);
            }
        }
        finally
        {
            stalled.Dispose();

            // First, so nothing below can leave the timer beating; and before the writer (the using above), as a
            // keep-alive may still be being written.
            await keepAlive.DisposeAsync();

            // Ends the record if something unexpected (a write to a vanished client) ended the stream.
            recorder.Failed(Outcomes.StreamError, ChatErrors.GatewayErrorCode, outputChunks, usage);
            metrics.StreamClosed(Surfaces.V1);
            await updates.DisposeAsync();
            call.Dispose();
            if (usage is not null)
            {
                tokens.Settle(ChatUsage.From(usage).TotalTokens);
            }
            else
            {
                // The caller left, the stream broke, or the upstream reports no usage: it pays for what it was seen to spend.
                tokens.SettleCut(outputChunks);
            }
        }
    }
}
