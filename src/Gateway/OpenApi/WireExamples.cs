using System.Text.Json.Nodes;
using Gateway.Chat;
using Gateway.Flows;
using Gateway.Runs;

namespace Gateway.OpenApi;

/// <summary>One realistic example per wire type, shown in the document and in Swagger UI.</summary>
internal static class WireExamples
{
    private static readonly Dictionary<Type, string> Examples = new()
    {
        [typeof(ChatCompletionRequest)] = """
            {"model":"echo","stream":true,"stream_options":{"include_usage":true},"max_tokens":64,
             "messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Hello there"}]}
            """,
        [typeof(ChatCompletionChunk)] = """
            {"id":"chatcmpl-5f1c","object":"chat.completion.chunk","created":1795300630,"model":"echo",
             "choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"finish_reason":null}]}
            """,
        [typeof(ChatCompletion)] = """
            {"id":"chatcmpl-5f1c","object":"chat.completion","created":1795300630,"model":"echo",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],
             "usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}
            """,
        [typeof(OpenAiErrorResponse)] = """
            {"error":{"message":"The model 'gpt-9' does not exist.","type":"invalid_request_error","param":"model","code":"model_not_found"}}
            """,
        [typeof(Flow)] = """
            {"id":"compare","name":"Compare two models","nodes":[
              {"id":"question","type":"input"},
              {"id":"prompt","type":"prompt","template":"Answer briefly: {{question}}"},
              {"id":"fast","type":"llm","model":"echo","prompt":"prompt","system":"Be terse.","temperature":0.2,"maxTokens":200},
              {"id":"slow","type":"llm","model":"lorem","prompt":"prompt"},
              {"id":"answer","type":"output","from":["fast","slow"]}]}
            """,
        [typeof(RunRequest)] = """
            {"input":"What does a gateway do?","variables":{"tone":"plain"},"tweaks":{"fast":{"temperature":0}}}
            """,
        [typeof(InlineRunRequest)] = """
            {"flow":{"id":"say","nodes":[{"id":"question","type":"input"},{"id":"answer","type":"llm","model":"echo","prompt":"question"},
              {"id":"out","type":"output","from":["answer"]}]},"input":"What does a gateway do?"}
            """,
        [typeof(RunRecord)] = """
            {"runId":"run_8f2c1a","flowId":"compare","status":"completed","createdAt":"2026-11-21T22:40:00Z",
             "completedAt":"2026-11-21T22:40:01Z","outputs":{"fast":"Answer briefly: What does a gateway do?"},
             "nodes":{"fast":{"status":"completed","output":"Answer briefly: What does a gateway do?","model":"echo",
               "provider":"simulated","attempts":1,"finishReason":"stop","usage":{"inputTokens":9,"outputTokens":6},
               "startedAt":"2026-11-21T22:40:00Z","completedAt":"2026-11-21T22:40:01Z","error":null}},
             "usage":{"inputTokens":9,"outputTokens":6},"error":null}
            """,
        [typeof(ModelList)] = """
            {"object":"list","data":[{"id":"echo","object":"model","created":0,"owned_by":"gateway"}]}
            """,
    };

    public static JsonNode? For(Type type) => Examples.TryGetValue(type, out var json) ? JsonNode.Parse(json) : null;
}
