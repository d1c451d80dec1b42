// What starting a run answers, in each of its modes (SSE, JSON, background) or with a problem: shared by the
// endpoints and the launcher, so the two cannot drift.
global using RunResults = Microsoft.AspNetCore.Http.HttpResults.Results<
    Gateway.Runs.RunEventStream,
    Microsoft.AspNetCore.Http.HttpResults.Ok<Gateway.Runs.RunRecord>,
    Microsoft.AspNetCore.Http.HttpResults.Accepted<Gateway.Runs.RunRecord>,
    Microsoft.AspNetCore.Http.HttpResults.ValidationProblem,
    Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult>;
