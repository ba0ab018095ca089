using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Plateau.Contracts.Checkpoints;
using Plateau.Contracts.Errors;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Coordinator.Checkpoints;

namespace Plateau.Coordinator.Api;

/// <summary>
/// Every error of the API as a gRPC status: the message names the field or the job and says what is wrong;
/// INVALID_ARGUMENT also carries a <c>google.rpc.BadRequest</c> with one field violation per problem, so a
/// client reads the fields from the details instead of parsing the message.
/// </summary>
internal static class RpcErrors
{
    public static RpcException InvalidArgument(string field, string message) =>
        InvalidArgument([new SpecError(field, message)]);

    /// <summary>INVALID_ARGUMENT; the message joins the problems with "; " for clients that show only it.</summary>
    public static RpcException InvalidArgument(IReadOnlyList<SpecError> errors)
    {
        var badRequest = new BadRequest();
        badRequest.FieldViolations.AddRange(errors.Select(e => new BadRequest.Types.FieldViolation { Field = e.Field, Description = e.Message }));
        return WithDetails(Code.InvalidArgument, string.Join("; ", errors), badRequest);
    }

    public static RpcException NotFound(string jobId) =>
        WithDetails(Code.NotFound, $"job {Quote.Value(jobId)} does not exist", new ResourceInfo { ResourceType = "plateau.v1.Job", ResourceName = jobId });

    public static RpcException FailedPrecondition(string message) =>
        WithDetails(Code.FailedPrecondition, message, null);

    public static RpcException AlreadyExists(string jobId, string message) =>
        WithDetails(Code.AlreadyExists, message, new ResourceInfo { ResourceType = "plateau.v1.Job", ResourceName = jobId });

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

    /// <summary>A free-text field (reason, request id) no longer than <paramref name="maxLength"/> characters.</summary>
    public static string RequireShort(string field, string? value, int maxLength)
    {
        value ??= "";
        if (value.Length > maxLength)
        {
            throw InvalidArgument(field, $"is {value.Length} characters; at most {maxLength} are accepted");
        }

        return value;
    }

    /// <summary>The status a domain exception stands for, or null when it is not one of the domain's.</summary>
    public static RpcException? FromDomain(Exception e) => e switch
    {
        JobSpecInvalidException invalid => InvalidArgument(invalid.Errors.Count > 0 ? invalid.Errors : [ParseError(invalid.Message)]),
        JobNotFoundException notFound => WithDetails(Code.NotFound, notFound.Message, new ResourceInfo { ResourceType = "plateau.v1.Job", ResourceName = notFound.JobId }),
        JobAlreadyExistsException exists => AlreadyExists(exists.JobId, exists.Message),
        JobTransitionException or StaleGenerationException or CheckpointRejectedException => FailedPrecondition(e.Message),
        UploadInProgressException => WithDetails(Code.Aborted, e.Message, null),
        _ => null,
    };

    /// <summary>An error raised with only a message ("spec.x: why") becomes a violation of the field it starts with.</summary>
    private static SpecError ParseError(string message)
    {
        var colon = message.IndexOf(": ", StringComparison.Ordinal);
        return colon > 0 && !message.AsSpan(0, colon).Contains(' ')
            ? new SpecError(message[..colon], message[(colon + 2)..])
            : new SpecError("spec", message);
    }

    private static RpcException WithDetails(Code code, string message, Google.Protobuf.IMessage? detail)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = message };
        if (detail is not null)
        {
            status.Details.Add(Any.Pack(detail));
        }

        return status.ToRpcException();
    }
}
