using Grpc.Core;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Errors;
using Plateau.Contracts.Specs;

namespace Plateau.Coordinator.Api;

/// <summary>Small throw helpers: every error names the field or the job and says what is wrong.</summary>
internal static class RpcErrors
{
    public static RpcException InvalidArgument(string field, string message) =>
        new(new Status(StatusCode.InvalidArgument, $"{field}: {message}"));

    public static RpcException NotFound(string jobId) =>
        new(new Status(StatusCode.NotFound, $"job {Quote.Value(jobId)} does not exist"));

    public static RpcException FailedPrecondition(string message) =>
        new(new Status(StatusCode.FailedPrecondition, message));

    /// <summary>job_id present and well formed.</summary>
    public static string RequireJobId(string? jobId)
    {
        if (string.IsNullOrEmpty(jobId))
        {
            throw InvalidArgument("job_id", "is required");
        }

        if (!Jobs.JobIds.IsValid(jobId))
        {
            throw InvalidArgument("job_id", Jobs.JobIds.Rule(jobId));
        }

        return jobId;
    }

    /// <summary>Runs a grain call and turns the domain's exceptions into status codes.</summary>
    public static async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (JobSpecInvalidException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        catch (JobNotFoundException e)
        {
            throw new RpcException(new Status(StatusCode.NotFound, e.Message));
        }
        catch (JobTransitionException e)
        {
            throw FailedPrecondition(e.Message);
        }
        catch (StaleGenerationException e)
        {
            throw FailedPrecondition(e.Message);
        }
        catch (CheckpointRejectedException e)
        {
            throw FailedPrecondition(e.Message);
        }
    }
}
