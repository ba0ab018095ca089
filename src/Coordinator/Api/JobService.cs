using System.Text.RegularExpressions;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Plateau.Contracts.Jobs;
using Plateau.Coordinator.Checkpoints;
using Plateau.Coordinator.Configuration;
using Plateau.Coordinator.Jobs;
using Proto = Plateau.Protos.V1;

namespace Plateau.Coordinator.Api;

/// <summary>
/// plateau.v1.JobService: the job control API, a thin layer over the JobGrains. Handlers check the request's
/// fields and throw; <see cref="ApiErrorInterceptor"/> turns the domain's exceptions into statuses.
/// </summary>
public sealed partial class JobService(IGrainFactory grains, IOptions<CoordinatorOptions> options, TimeProvider time, ICheckpointStorage checkpoints) : Proto.JobService.JobServiceBase
{
    /// <summary>Longest spec text accepted, in characters.</summary>
    public const int MaxSpecChars = 1 << 20;

    /// <summary>Largest request message the service reads (a maximal spec plus room); larger is RESOURCE_EXHAUSTED.</summary>
    public const int MaxRequestBytes = 2 << 20;

    public const int MaxReasonChars = 1024;

    public const int MaxRequestIdChars = 128;

    public const int MaxPageTokenChars = 64;

    public override async Task<Proto.Job> SubmitJob(Proto.SubmitJobRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Spec))
        {
            throw RpcErrors.InvalidArgument("spec", "is required (YAML or JSON text of a plateau/v1 JobSpec)");
        }

        if (request.Spec.Length > MaxSpecChars)
        {
            throw RpcErrors.InvalidArgument("spec", $"is {request.Spec.Length} characters; at most {MaxSpecChars} are accepted");
        }

        var jobId = string.IsNullOrEmpty(request.JobId) ? null : RpcErrors.RequireJobId(request.JobId);
        if (request.RequestId.Length > 0)
        {
            RpcErrors.RequireShort("request_id", request.RequestId, MaxRequestIdChars);
            if (!RequestIdPattern().IsMatch(request.RequestId))
            {
                throw RpcErrors.InvalidArgument("request_id", $"must be letters, digits, '-', '_' or '.', got {Contracts.Errors.Quote.Value(request.RequestId)}");
            }

            return (await grains.GetGrain<ISubmitRequestGrain>(request.RequestId).Submit(jobId, request.Spec)).ToProto();
        }

        if (jobId is not null && await grains.GetGrain<IJobGrain>(jobId).GetSummary() is not null)
        {
            throw JobAlreadyExistsException.ForJobId(jobId);
        }

        return (await JobSubmission.SubmitAsync(grains, jobId, request.Spec, time.GetUtcNow())).ToProto();
    }

    public override async Task<Proto.Job> GetJob(Proto.GetJobRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var jobId = RpcErrors.RequireJobId(request.JobId);
        return (await grains.GetGrain<IJobGrain>(jobId).GetSummary() ?? throw new JobNotFoundException(jobId)).ToProto();
    }

    public override async Task<Proto.ListJobsResponse> ListJobs(Proto.ListJobsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Limit is < 0 or > JobListing.MaxLimit)
        {
            throw RpcErrors.InvalidArgument("limit", $"must be between 0 and {JobListing.MaxLimit}, got {request.Limit}");
        }

        RpcErrors.RequireShort("page_token", request.PageToken, MaxPageTokenChars);
        var phases = new HashSet<JobPhase>();
        foreach (var phase in request.Phases)
        {
            phases.Add(phase.FromProto() ?? throw RpcErrors.InvalidArgument("phases", $"{phase} is not a job phase"));
        }

        var ids = await grains.GetGrain<IJobCatalogGrain>(0).List();
        var page = await JobListing.ReadAsync(ids, request.Limit, phases, request.PageToken, id => grains.GetGrain<IJobGrain>(id).GetSummary());
        var response = new Proto.ListJobsResponse { NextPageToken = page.NextPageToken };
        response.Jobs.AddRange(page.Jobs.Select(s => s.ToProto()));
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
        var summary = await job.GetSummary() ?? throw new JobNotFoundException(jobId);
        await responseStream.WriteAsync(new Proto.JobUpdate { Snapshot = summary.ToProto() }, context.CancellationToken);

        var after = request.AfterSequence;
        var lastProgress = summary.Progress?.At;
        var poll = TimeSpan.FromMilliseconds(options.Value.WatchPollMilliseconds);
        while (!context.CancellationToken.IsCancellationRequested)
        {
            var page = await job.GetEvents(after, 200);
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

    public override async Task<Proto.Job> CancelJob(Proto.CancelJobRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var jobId = RpcErrors.RequireJobId(request.JobId);
        var reason = RpcErrors.RequireShort("reason", request.Reason, MaxReasonChars);
        return (await grains.GetGrain<IJobGrain>(jobId).Cancel(reason)).ToProto();
    }

    public override async Task<Proto.Job> PauseJob(Proto.PauseJobRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var jobId = RpcErrors.RequireJobId(request.JobId);
        var reason = RpcErrors.RequireShort("reason", request.Reason, MaxReasonChars);
        return (await grains.GetGrain<IJobGrain>(jobId).Pause(reason)).ToProto();
    }

    public override async Task<Proto.Job> ResumeJob(Proto.ResumeJobRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var jobId = RpcErrors.RequireJobId(request.JobId);
        var reason = RpcErrors.RequireShort("reason", request.Reason, MaxReasonChars);
        return (await grains.GetGrain<IJobGrain>(jobId).Resume(reason)).ToProto();
    }

    public override async Task ExportWeights(Proto.ExportWeightsRequest request, IServerStreamWriter<Proto.WeightsChunk> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var jobId = RpcErrors.RequireJobId(request.JobId);
        var job = grains.GetGrain<IJobGrain>(jobId);
        _ = await job.GetSummary() ?? throw new JobNotFoundException(jobId);
        var committed = await job.GetCheckpoints();
        var record = WeightsExportChoice.Choose(jobId, committed, request.CheckpointId);

        // Verification and the copy run here, on the request's thread, never in a grain turn.
        var verified = await CheckpointVerification.VerifyAsync(checkpoints, jobId, record, context.CancellationToken);
        if (!verified.IsSound)
        {
            throw RpcErrors.FailedPrecondition($"checkpoint {record.CheckpointId} of job {jobId} fails verification: {verified.Problem}");
        }

        await using var file = await checkpoints.OpenReadAsync(jobId, record.CheckpointId, context.CancellationToken);
        WeightsExportPlan plan;
        try
        {
            plan = await WeightsExport.PlanAsync(file, record.CheckpointId, new Dictionary<string, string> { ["plateau.checkpoint"] = record.CheckpointId }, context.CancellationToken);
        }
        catch (InvalidDataException e)
        {
            throw RpcErrors.FailedPrecondition(e.Message);
        }

        var first = true;
        await WeightsExport.CopyAsync(file, record.CheckpointId, plan, async bytes =>
        {
            var chunk = new Proto.WeightsChunk { Data = Google.Protobuf.ByteString.CopyFrom(bytes.Span) };
            if (first)
            {
                (chunk.CheckpointId, chunk.TotalBytes, first) = (record.CheckpointId, plan.TotalBytes, false);
            }

            await responseStream.WriteAsync(chunk, context.CancellationToken);
        }, cancellationToken: context.CancellationToken);
    }

    public override async Task<Proto.Job> UpdateSchedule(Proto.UpdateScheduleRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var jobId = RpcErrors.RequireJobId(request.JobId);
        var update = new ScheduleUpdate
        {
            Operator = request.Operator,
            Reason = request.Reason,
            Patience = request.HasPatience ? request.Patience : null,
            Factor = request.HasFactor ? request.Factor : null,
            Threshold = request.HasThreshold ? request.Threshold : null,
            DropNow = request.DropNow,
        };
        return (await grains.GetGrain<IJobGrain>(jobId).UpdateSchedule(update)).ToProto();
    }

    public override async Task<Proto.ListCheckpointsResponse> ListCheckpoints(Proto.ListCheckpointsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var jobId = RpcErrors.RequireJobId(request.JobId);
        var response = new Proto.ListCheckpointsResponse();
        response.Checkpoints.AddRange((await grains.GetGrain<IJobGrain>(jobId).GetCheckpoints()).Select(c => c.ToProto()));
        return response;
    }

    public override async Task<Proto.JobMetrics> GetMetrics(Proto.GetMetricsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var jobId = RpcErrors.RequireJobId(request.JobId);
        if (request.FromEpoch < 0)
        {
            throw RpcErrors.InvalidArgument("from_epoch", $"must be ≥ 0, got {request.FromEpoch}");
        }

        var grain = grains.GetGrain<IJobGrain>(jobId);
        var summary = await grain.GetSummary() ?? throw new JobNotFoundException(jobId);
        var ranks = await grain.GetThroughput();
        var metrics = new Proto.JobMetrics { JobId = jobId, ImagesPerSecond = ranks.Sum(r => r.ImagesPerSecond) };
        metrics.Epochs.AddRange(summary.MetricsHistory.Where(m => m.Epoch >= request.FromEpoch).Select(m => m.ToProto()));
        metrics.Ranks.AddRange(ranks.Select(r => r.ToProto()));
        return metrics;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex RequestIdPattern();
}
