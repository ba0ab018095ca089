using Plateau.Contracts.Errors;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;

namespace Plateau.Coordinator.Jobs;

public sealed class SubmitRequestGrain(
    [PersistentState("submit-request", JobGrain.StorageName)] IPersistentState<SubmitRequestState> state,
    TimeProvider time) : Grain, ISubmitRequestGrain
{
    public async Task<JobSummary> Submit(string? jobId, string specText)
    {
        var spec = JobSpecLoader.Parse(specText);
        var fingerprint = SubmissionFingerprint.Of(spec, jobId);
        var requestId = this.GetPrimaryKeyString();
        if (state.State.JobId.Length > 0)
        {
            if (state.State.Fingerprint != fingerprint)
            {
                throw new JobAlreadyExistsException(state.State.JobId,
                    $"request_id {Quote.Value(requestId)} was used for job {state.State.JobId} with a different spec or job_id; use a new request_id for a new job");
            }

            var existing = await GrainFactory.GetGrain<IJobGrain>(state.State.JobId).GetSummary();
            if (existing is not null)
            {
                return existing;
            }
        }
        else
        {
            if (jobId is not null && await GrainFactory.GetGrain<IJobGrain>(jobId).GetSummary() is not null)
            {
                throw JobAlreadyExistsException.ForJobId(jobId);
            }

            // The id is recorded before the job is created, so a crash in between retries the same id
            // instead of creating a second job under a new one.
            state.State.JobId = jobId ?? JobIds.New(spec.Name, time.GetUtcNow());
            state.State.Fingerprint = fingerprint;
            await state.WriteStateAsync();
        }

        try
        {
            return await GrainFactory.GetGrain<IJobGrain>(state.State.JobId).Submit(spec);
        }
        catch (JobSpecInvalidException)
        {
            // Nothing was created: the request id stays free for a corrected spec.
            await state.ClearStateAsync();
            throw;
        }
    }
}
