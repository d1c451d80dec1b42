using System.Text.Json;
using Gateway.Hosting;
using Gateway.OpenApi;
using Gateway.Providers;
using Gateway.Providers.Tools;
using Gateway.Security;
using Gateway.Streaming;
using Gateway.Telemetry;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.AI;

namespace Gateway.Chat;

/// <summary>The OpenAI-compatible surface: <c>/v1/chat/completions</c>, <c>/v1/models</c> and <c>/v1/models/{model}</c>.</summary>
internal static class ChatApi
{
    public const string AttemptsHeader = "X-Gateway-Attempts";

    /// <summary>The answering (or last tried) upstream's own id for its response: what that provider's support asks for.</summary>
    public const string UpstreamRequestIdHeader = "X-Upstream-Request-Id";

    /// <summary>OpenAI's name for a request's id.</summary>
    public const string RequestIdHeader = "x-request-id";

    /// <summary>Declared on every <c>/v1</c> answer in the OpenAPI document (<c>AccessOperationFilter</c>).</summary>
    public const string RequestIdDescription =
        "The request's trace and span ids (`{traceId}-{spanId}`), as its JSON log lines and spans carry them; the OpenAI SDKs expose it as `request_id`.";

    public static RouteGroupBuilder MapChatApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1").WithTags("OpenAI-compatible").RequireAuthorization(GatewayPolicies.Client);

        group.MapPost("/chat/completions", CreateChatCompletionAsync)
            .WithName("CreateChatCompletion")
            .WithMetadata(RateLimitHeaders.OnEveryAnswer.Metadata)
            .WithSummary("Creates a chat completion, streamed as Server-Sent Events when `stream` is true.")
            .Accepts<ChatCompletionRequest>("application/json")
            .Produces<ChatCompletion>(StatusCodes.Status200OK)
            .ProducesEventStream(
                new EventStreamEvent(null, typeof(ChatCompletionChunk), "one per token; the first carries the role, the last the finish reason; with `stream_options.include_usage`, one more with `choices: []` and `usage`."),
                new EventStreamEvent(null, typeof(OpenAiErrorResponse), "instead of the rest of the stream when it fails after it started; no `[DONE]` follows."),
                new EventStreamEvent(null, typeof(string), "the literal `[DONE]`, last, after a stream that completed."))
            .Produces<OpenAiErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status401Unauthorized)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status403Forbidden)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status413PayloadTooLarge)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status415UnsupportedMediaType)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status429TooManyRequests)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status502BadGateway)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status503ServiceUnavailable)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status504GatewayTimeout)
            .NamesModels()
            .ProducesWholeNumberHeader(AttemptsHeader, "How many upstream attempts the answer took, across deployments.", 200, 502, 503, 504)
            .ProducesHeader(
                UpstreamRequestIdHeader,
                "The upstream's own id for its response (its `x-request-id`), from the deployment that answered or was tried last: what that provider's support asks for. Absent when it sent none.",
                200, 400, 404, 502, 503, 504)
            .ProducesWholeNumberHeader(
                "Retry-After",
                "On a 503 (`upstream_rate_limited`, `upstream_unavailable`), when known: whole seconds until the upstream may answer again.",
                503)
            .ProducesWholeNumberHeader(
                Hosting.ErrorResponses.RetryAfterMsHeader,
                "With `Retry-After`: the same wait in milliseconds, which the OpenAI SDKs read first.",
                503)
            .ProducesHeader(
                ChatErrors.ShouldRetryHeader,
                "`false` on a failure the gateway has already retried and fallen back from, so that the OpenAI SDKs do not run it all again.",
                502, 503, 504);

        // Not counted against a key's RequestsPerMinute, as OpenAI's limits do not count them: SDKs and tools list and
        // check models as they start, and two such reads used up a small limit before its first completion.
        group.MapGet("/models", ListModels)
            .DisableRateLimiting()
            .WithName("ListModels")
            .WithSummary("Lists the model aliases this gateway serves that the caller's key may use.")
            .Produces<ModelList>(StatusCodes.Status200OK)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status401Unauthorized);

        // What the OpenAI SDKs' models.retrieve asks: a tool that checks a model before using it was told a served one
        // did not exist.
        // A catch-all: aliases such as meta-llama/Llama-3.1-8B-Instruct hold a slash.
        group.MapGet("/models/{**model}", GetModel)
            .DisableRateLimiting()
            .WithName("GetModel")
            .WithSummary("Describes one model alias, as the list does.")
            .Produces<ModelInfo>(StatusCodes.Status200OK)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status401Unauthorized)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status403Forbidden)
            .Produces<OpenAiErrorResponse>(StatusCodes.Status404NotFound);

        return group;
    }

    /// <summary>
    /// OpenAI's header, which its SDKs hand to the caller (<c>request_id</c>) for a bug report: the request's trace and
    /// span ids, which its JSON log lines (TraceId, SpanId) and its spans carry (the trace id alone is shared by every
    /// request a caller sends under one traceparent); without a trace, the id ASP.NET Core's log scopes name it by.
    /// </summary>
    /// <remarks>On every <c>/v1</c> response: the endpoints' own, and the errors written before them (a refused key).</remarks>
    public static void SetRequestId(HttpContext httpContext) =>
        httpContext.Response.Headers[RequestIdHeader] = System.Diagnostics.Activity.Current is { IdFormat: System.Diagnostics.ActivityIdFormat.W3C } request
            ? $"{request.TraceId.ToHexString()}-{request.SpanId.ToHexString()}"
            : httpContext.TraceIdentifier;

    /// <summary>
    /// The key's allowlist first, as for a completion: a restricted key learns nothing of aliases outside it. The SDKs
    /// send an alias's slash as <c>%2F</c>, which routing leaves encoded.
    /// </summary>
    private static IResult GetModel(string model, ModelRouter router, CallerIdentity caller, HttpContext httpContext)
    {
        SetRequestId(httpContext);
        model = model.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        // The alias as the list and a completion spell it, however the caller cased it.
        return !caller.CanUseModel(model) ? ChatErrors.ModelNotAllowed(model)
            : !router.TryGetRoute(model, out var route) ? ChatErrors.ModelNotFound(model)
            : TypedResults.Json(new ModelInfo { Id = route.Alias }, ChatJsonContext.Wire.ModelInfo);
    }

    private static JsonHttpResult<ModelList> ListModels(ModelRouter router, CallerIdentity caller, HttpContext httpContext)
    {
        SetRequestId(httpContext);
        return TypedResults.Json(
            new ModelList { Data = [.. router.Aliases.Where(caller.CanUseModel).Select(alias => new ModelInfo { Id = alias })] },
            ChatJsonContext.Wire.ModelList);
    }

    private static async Task<IResult> CreateChatCompletionAsync(
        HttpContext httpContext, CallerIdentity caller, ModelRouter router, RoutedChat chat, TokenBudgets budgets, CallTelemetry telemetry,
        ShutdownDrain drain, ILoggerFactory loggerFactory)
    {
        var cancellationToken = httpContext.RequestAborted;
        SetRequestId(httpContext);
        if (!httpContext.Request.HasJsonContentType())
        {
            return ChatErrors.Result(StatusCodes.Status415UnsupportedMediaType,
                ChatRequestMapper.Invalid("The request body must be JSON (Content-Type: application/json)."));
        }

        if (RequestBodyEncoding.Unsupported(httpContext.Request) is { } unreadable)
        {
            return ChatErrors.Result(StatusCodes.Status415UnsupportedMediaType, ChatRequestMapper.Invalid(unreadable));
        }

        ChatCompletionRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(httpContext.Request.Body, ChatJsonContext.Wire.ChatCompletionRequest, cancellationToken);
        }
        catch (JsonException exception)
        {
            return ChatErrors.Result(StatusCodes.Status400BadRequest, ChatRequestJsonErrors.From(exception));
        }
        catch (IOException exception) when (JsonBody.IsUnreadable(exception, cancellationToken))
        {
            return ChatErrors.Result(StatusCodes.Status400BadRequest, ChatRequestMapper.Invalid(JsonBody.UnreadableBody(exception)));
        }

        if (request is null)
        {
            return ChatErrors.Result(StatusCodes.Status400BadRequest, ChatRequestMapper.Invalid("The request body must be a JSON object."));
        }

        if (ChatRequestMapper.Validate(request) is { } invalid)
        {
            return ChatErrors.Result(StatusCodes.Status400BadRequest, invalid);
        }

        // The allowlist comes first, so a restricted key learns nothing about aliases outside it.
        if (!caller.CanUseModel(request.Model!))
        {
            return ChatErrors.ModelNotAllowed(request.Model!);
        }

        if (!router.TryGetRoute(request.Model!, out var route))
        {
            return ChatErrors.ModelNotFound(request.Model!);
        }

        var messages = ChatRequestMapper.ToMessages(request);
        var options = ChatRequestMapper.ToOptions(request);
        var tokens = await budgets.ReserveAsync(caller.KeyName, messages, options, cancellationToken);
        // What the bucket holds when the headers go: a stream's reservation; a whole answer's settled usage.
        RateLimitHeaders.Record(httpContext, tokens);
        if (!tokens.IsGranted)
        {
            return ChatErrors.TokenLimitReached(tokens.RetryAfter);
        }

        var logger = loggerFactory.CreateLogger(typeof(ChatApi));
        var trace = new RouteTrace();
        var recorder = telemetry.Begin(Surfaces.V1, caller.KeyName, route, trace, messages, options);
        // The upstream call stops when the caller leaves or when the gateway's shutdown drain runs out. A stream
        // takes this source with it, and disposes of it when it ends.
        var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, drain.Stopped);
        var streaming = false;
        try
        {
            if (request.Stream == true)
            {
                var result = await StartStreamAsync(chat, route, messages, options, trace, request.StreamOptions?.IncludeUsage == true, tokens, recorder, telemetry.Metrics, logger, call);
                streaming = result is ChatCompletionStream;
                return result;
            }

            return await CompleteAsync(chat, route, messages, options, trace, tokens, recorder, logger, call.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            SettleLeft(request, tokens);
            recorder.Cancelled();
            throw;
        }
        catch (UpstreamException) when (cancellationToken.IsCancellationRequested)
        {
            // The abort of a caller who left, surfacing as an upstream failure: a cancellation all the same.
            SettleLeft(request, tokens);
            recorder.Cancelled();
            throw new OperationCanceledException(cancellationToken);
        }
        catch (Exception exception) when (exception is OperationCanceledException or UpstreamException && drain.Stopped.IsCancellationRequested)
        {
            tokens.Settle(0);
            recorder.Failed(Outcomes.Error, ChatErrors.ShuttingDownCode);
            return ChatErrors.Result(StatusCodes.Status503ServiceUnavailable, ChatErrors.ShuttingDown(route.Alias));
        }
        catch
        {
            // Anything else is the gateway's own failure, a 500: counted and logged as a call like any other, as the
            // stream's end is (ChatCompletionStream), rather than left out of the metrics and the summary line; and
            // the key is not charged for an answer it never got (its reservation was held until it refilled).
            tokens.Settle(0);
            recorder.Failed(Outcomes.Error, ChatErrors.GatewayErrorCode);
            throw;
        }
        finally
        {
            if (!streaming)
            {
                call.Dispose();
            }

            // Known by now, before any byte of the body: how many upstream attempts the answer took, and whose it is.
            httpContext.Response.Headers[AttemptsHeader] = trace.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (trace.UpstreamRequestId is { } upstreamRequestId)
            {
                httpContext.Response.Headers[UpstreamRequestIdHeader] = upstreamRequestId;
            }
        }
    }

    /// <summary>
    /// A caller who left before anything reached it. A stream's first token had not come, so nothing was generated: it
    /// pays its prompt. A whole answer's generation is unseen until it ends, and the upstream may have done most of it:
    /// it keeps its estimate, so that leaving does not let a key spend past its budget.
    /// </summary>
    private static void SettleLeft(ChatCompletionRequest request, TokenReservation tokens)
    {
        if (request.Stream == true)
        {
            tokens.SettleCut(0);
        }
    }

    /// <summary>
    /// Waits for the first upstream update before committing to a 200: until then a failure can still be
    /// answered with a proper status and error body.
    /// </summary>
    private static async Task<IResult> StartStreamAsync(
        RoutedChat chat, ModelRoute route, List<ChatMessage> messages, ChatOptions options, RouteTrace trace, bool includeUsage,
        TokenReservation tokens, CallRecorder recorder, GatewayMetrics metrics, ILogger logger, CancellationTokenSource call)
    {
        var updates = chat.StreamAsync(route, messages, options, trace, call.Token).GetAsyncEnumerator(call.Token);
        try
        {
            if (!await updates.MoveNextAsync())
            {
                throw new UpstreamException(UpstreamFailure.Protocol, "The upstream stream ended before its first chunk.");
            }
        }
        // An aborted call (its caller left, or the shutdown drain ran out) is the caller's to answer, not an upstream failure.
        catch (UpstreamException exception) when (!call.IsCancellationRequested)
        {
            await updates.DisposeAsync();
            tokens.Settle(0);
            return UpstreamFailed(exception, route.Alias, recorder, logger);
        }
        catch
        {
            await updates.DisposeAsync();
            throw;
        }

        recorder.FirstToken();
        return new ChatCompletionStream(updates, call, route.Alias, includeUsage, tokens, recorder, metrics, logger, trace.Deadline);
    }

    private static async Task<IResult> CompleteAsync(
        RoutedChat chat, ModelRoute route, List<ChatMessage> messages, ChatOptions options, RouteTrace trace, TokenReservation tokens,
        CallRecorder recorder,
        ILogger logger, CancellationToken cancellationToken)
    {
        ChatResponse response;
        try
        {
            response = await chat.CompleteAsync(route, messages, options, trace, cancellationToken);
        }
        catch (UpstreamException exception) when (!cancellationToken.IsCancellationRequested)
        {
            tokens.Settle(0);
            return UpstreamFailed(exception, route.Alias, recorder, logger);
        }

        // For an upstream that reports no usage: the answer's estimate, as the prompt's is made.
        var answerTokens = response.Usage is null ? TokenEstimate.Prompt(PromptText.Characters([.. response.Messages])) : 0;
        var counted = recorder.Counted(response.Usage, answerTokens);
        var usage = ChatUsage.From(counted);
        if (response.Usage is not null)
        {
            tokens.Settle(usage.TotalTokens);
        }
        else
        {
            tokens.SettleCut(answerTokens);
        }

        recorder.Succeeded(counted, recorder.CapturesContent ? ToolCallText.Of(response) : null);
        var message = CompletionMessages.Message(response);
        var servedBy = ServedBy.Of(response);
        var completion = new ChatCompletion
        {
            Id = CompletionIds.Next(),
            Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Model = route.Alias,
            Choices =
            [
                new CompletionChoice
                {
                    Message = message,
                    FinishReason = CompletionMessages.FinishReason(response.FinishReason ?? ChatFinishReason.Stop, message.ToolCalls is not null),
                },
            ],
            Usage = usage,
            ServiceTier = servedBy?.ServiceTier,
            SystemFingerprint = servedBy?.SystemFingerprint,
        };
        return TypedResults.Json(completion, ChatJsonContext.Wire.ChatCompletion);
    }

    private static IResult UpstreamFailed(UpstreamException exception, string alias, CallRecorder recorder, ILogger logger)
    {
        var (status, error) = ChatErrors.FromUpstream(exception, alias);
        recorder.Failed(Outcomes.Error, ChatErrors.TypeOf(exception));
        ChatLog.FailedBeforeStreaming(logger, alias, status, exception.LogText);
        return ChatErrors.UpstreamFailed(status, error, status == StatusCodes.Status503ServiceUnavailable ? exception.RetryAfter : null);
    }
}
