using Grpc.Core;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Configuration;
using Plateau.Coordinator.Jobs;
using Proto = Plateau.Protos.V1;

namespace Plateau.Coordinator.Api;

/// <summary>plateau.v1.JobService: the job control API, a thin layer over the JobGrains.</summary>
public sealed class JobService(IGrainFactory grains, IOptions<CoordinatorOptions> options, TimeProvider time, CheckpointStore checkpoints) : Proto.JobService.JobServiceBase
{
    private const int MaxSpecBytes = 1 << 20;

    public override Task<Proto.Job> SubmitJob(Proto.SubmitJobRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Spec))
        {
            throw RpcErrors.InvalidArgument("spec", "is required (YAML or JSON text of a plateau/v1 JobSpec)");
        }

        if (request.Spec.Length > MaxSpecBytes)
        {
            throw RpcErrors.InvalidArgument("spec", $"is {request.Spec.Length} characters; at most {MaxSpecBytes} are accepted");
        }

        return RpcErrors.Guard(async () =>
        {
            var jobId = string.IsNullOrEmpty(request.JobId) ? null : RpcErrors.RequireJobId(request.JobId);
            var summary = await JobSubmission.SubmitAsync(grains, jobId, request.Spec, time.GetUtcNow());
            return summary.ToProto();
        });
    }

    public override Task<Proto.Job> GetJob(Proto.GetJobRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var jobId = RpcErrors.RequireJobId(request.JobId);
        return RpcErrors.Guard(async () =>
            (await grains.GetGrain<IJobGrain>(jobId).GetSummary() ?? throw RpcErrors.NotFound(jobId)).ToProto());
    }

    public override async Task<Proto.ListJobsResponse> ListJobs(Proto.ListJobsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Limit is < 0 or > 500)
        {
            throw RpcErrors.InvalidArgument("limit", $"must be between 0 and 500, got {request.Limit}");
        }

        var ids = await grains.GetGrain<IJobCatalogGrain>(0).List();
        var summaries = await Task.WhenAll(ids.Take(request.Limit == 0 ? 50 : request.Limit).Select(id => grains.GetGrain<IJobGrain>(id).GetSummary()));
        var response = new Proto.ListJobsResponse();
        response.Jobs.AddRange(summaries.OfType<JobSummary>().Select(s => s.ToProto()));
        return response;
    }

    public override async Task WatchJob(Proto.WatchJobRequest request, IServerStreamWriter<Proto.JobUpdate> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var jobId = RpcErrors.RequireJobId(request.JobId);
        if (request.AfterSequence < 0)
        {
            throw RpcErrors.InvalidArgument("after_sequence", $"must be ≥ 0, got {request.AfterSequence}");
        }

        var job = grains.GetGrain<IJobGrain>(jobId);
        var summary = await RpcErrors.Guard(async () => await job.GetSummary() ?? throw RpcErrors.NotFound(jobId));
        await responseStream.WriteAsync(new Proto.JobUpdate { Snapshot = summary.ToProto() }, context.CancellationToken);

        var after = request.AfterSequence;
        var lastProgress = summary.Progress?.At;
        var poll = TimeSpan.FromMilliseconds(options.Value.WatchPollMilliseconds);
        while (!context.CancellationToken.IsCancellationRequested)
        {
            var page = await RpcErrors.Guard(() => job.GetEvents(after, 200));
            foreach (var e in page.Events)
            {
                await responseStream.WriteAsync(new Proto.JobUpdate { Event = e.ToProto() }, context.CancellationToken);
            }

            after = page.LastSequence;
            if (page.Summary?.Progress is { } progress && progress.At != lastProgress)
            {
                lastProgress = progress.At;
                await responseStream.WriteAsync(new Proto.JobUpdate { Progress = progress.ToProto() }, context.CancellationToken);
            }

            if (page.Summary is { } current && current.Phase.IsTerminal() && page.Events.Count == 0)
            {
                await responseStream.WriteAsync(new Proto.JobUpdate { Snapshot = current.ToProto() }, context.CancellationToken);
                return;
            }

            if (page.Events.Count == 0)
            {
                await Task.Delay(poll, time, context.CancellationToken);
            }
        }
    }

    public override Task<Proto.Job> CancelJob(Proto.CancelJobRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var jobId = RpcErrors.RequireJobId(request.JobId);
        return RpcErrors.Guard(async () => (await grains.GetGrain<IJobGrain>(jobId).Cancel(request.Reason)).ToProto());
    }

    public override Task<Proto.Job> PauseJob(Proto.PauseJobRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var jobId = RpcErrors.RequireJobId(request.JobId);
        return RpcErrors.Guard(async () => (await grains.GetGrain<IJobGrain>(jobId).Pause(request.Reason)).ToProto());
    }

    public override Task<Proto.Job> ResumeJob(Proto.ResumeJobRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var jobId = RpcErrors.RequireJobId(request.JobId);
        return RpcErrors.Guard(async () => (await grains.GetGrain<IJobGrain>(jobId).Resume(request.Reason)).ToProto());
    }

    public override async Task ExportWeights(Proto.ExportWeightsRequest request, IServerStreamWriter<Proto.WeightsChunk> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var jobId = RpcErrors.RequireJobId(request.JobId);
        var job = grains.GetGrain<IJobGrain>(jobId);
        await RpcErrors.Guard(async () => await job.GetSummary() ?? throw RpcErrors.NotFound(jobId));
        var committed = await RpcErrors.Guard(() => job.GetCheckpoints());
        var record = WeightsExportChoice.Choose(jobId, committed, request.CheckpointId);

        // Verification and the copy run here, on the request's thread, never in a grain turn.
        if (await checkpoints.VerifyAsync(jobId, record, context.CancellationToken) is { } problem)
        {
            throw RpcErrors.FailedPrecondition($"checkpoint {record.CheckpointId} of job {jobId} fails verification: {problem}");
        }

        var path = checkpoints.CommittedPath(jobId, record.CheckpointId);
        WeightsExportPlan plan;
        try
        {
            plan = await WeightsExport.PlanAsync(path, new Dictionary<string, string> { ["plateau.checkpoint"] = record.CheckpointId }, context.CancellationToken);
        }
        catch (InvalidDataException e)
        {
            throw RpcErrors.FailedPrecondition(e.Message);
        }

        var first = true;
        await WeightsExport.CopyAsync(path, plan, async bytes =>
        {
            var chunk = new Proto.WeightsChunk { Data = Google.Protobuf.ByteString.CopyFrom(bytes.Span) };
            if (first)
            {
                (chunk.CheckpointId, chunk.TotalBytes, first) = (record.CheckpointId, plan.TotalBytes, false);
            }

            await responseStream.WriteAsync(chunk, context.CancellationToken);
        }, cancellationToken: context.CancellationToken);
    }
}
