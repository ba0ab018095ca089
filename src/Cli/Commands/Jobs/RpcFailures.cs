using System.Globalization;
using System.Text.RegularExpressions;
using Grpc.Core;

namespace Plateau.Cli.Commands.Jobs;

/// <summary>Turns a gRPC status from the coordinator into a message a user can act on and an exit code.</summary>
public static partial class RpcFailures
{
    /// <summary>Writes the message for <paramref name="e"/> to <paramref name="error"/> and returns the exit code.</summary>
    public static int Report(RpcException e, Uri coordinator, TimeSpan timeout, string? jobId, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(error);
        var detail = e.Status.Detail;
        switch (e.StatusCode)
        {
            case StatusCode.Unavailable:
                error.WriteLine($"cannot reach the coordinator at {Display(coordinator)}: {Cause(e)}");
                error.WriteLine($"  (is it running? give its address with --coordinator or {JobCommandOptions.AddressVariable})");
                return JobExitCodes.Unreachable;
            case StatusCode.DeadlineExceeded:
                error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"the coordinator at {Display(coordinator)} did not answer within {timeout.TotalSeconds:0.###} s (raise --timeout if it is busy)"));
                return JobExitCodes.Timeout;
            case StatusCode.InvalidArgument:
                error.WriteLine("the coordinator refused the request:");
                foreach (var message in FieldMessages(detail))
                {
                    error.WriteLine($"  {message}");
                }

                return JobExitCodes.InvalidInput;
            case StatusCode.NotFound:
                error.WriteLine(jobId is null ? detail : $"no job named {jobId} on the coordinator at {Display(coordinator)}");
                return JobExitCodes.NotFound;
            case StatusCode.FailedPrecondition:
                error.WriteLine($"not possible now: {detail}");
                return JobExitCodes.FailedPrecondition;
            case StatusCode.Unimplemented:
                error.WriteLine($"the server at {Display(coordinator)} does not serve plateau.v1.JobService (is it a Plateau coordinator's gRPC port?): {detail}");
                return JobExitCodes.OtherError;
            default:
                error.WriteLine($"the coordinator at {Display(coordinator)} answered {e.StatusCode}: {detail}");
                return JobExitCodes.OtherError;
        }
    }

    /// <summary>
    /// The coordinator joins a spec's errors with "; " (one per field); splits them back, only where the
    /// next part starts with a field name, so a message that itself contains "; " stays whole.
    /// </summary>
    public static IReadOnlyList<string> FieldMessages(string detail) =>
        string.IsNullOrEmpty(detail) ? ["(no details given)"] : FieldBoundary().Split(detail);

    private static string Display(Uri address) => address.GetLeftPart(UriPartial.Path).TrimEnd('/');

    /// <summary>The innermost exception says what the socket saw ("Connection refused (127.0.0.1:5100)").</summary>
    private static string Cause(RpcException e)
    {
        var inner = e.Status.DebugException;
        while (inner?.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner?.Message ?? e.Status.Detail;
    }

    [GeneratedRegex(@"; (?=(?:spec|job_id|limit|after_sequence)[.\[:])")]
    private static partial Regex FieldBoundary();
}
