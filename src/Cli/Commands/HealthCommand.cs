using System.CommandLine;
using Plateau.Cli.Commands.Health;

namespace Plateau.Cli.Commands;

/// <summary>
/// <c>plateau health [--pid 1]</c>: the image's HEALTHCHECK. It asks <c>/alive</c> of the port the container's main process
/// (coordinator or worker) is configured to serve it on, and passes when that role serves none (a worker without
/// Plateau:Worker:HealthPort, the CLI's other verbs). Exit 0 healthy, 1 not (Docker's codes).
/// </summary>
public static class HealthCommand
{
    public static Command Build()
    {
        var pid = new Option<int>("--pid") { Description = "The process whose settings name the port (default 1: the container's main process).", DefaultValueFactory = _ => 1 };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the answer.", DefaultValueFactory = _ => 4 };
        var command = new Command("health", "Check the container's main process: GET /alive on its configured health port, or pass when its role serves none.");
        command.Options.Add(pid);
        command.Options.Add(timeout);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            MainProcess process;
            try
            {
                process = MainProcess.Read(parseResult.GetValue(pid));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"unhealthy: cannot read process {parseResult.GetValue(pid)}'s settings from /proc: {e.Message}");
                return 1;
            }

            HealthTarget target;
            try
            {
                target = HealthTarget.Of(process.Arguments, process.Environment, process.WorkingDirectory);
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                await Console.Error.WriteLineAsync($"unhealthy: the main process's settings do not name a health port: {e.Message}");
                return 1;
            }

            return await CheckAsync(target, TimeSpan.FromSeconds(parseResult.GetValue(timeout)), Console.Out, cancellationToken);
        });
        return command;
    }

    /// <summary>GET the target's /alive: 0 on a success status, 1 on anything else; a role without an endpoint passes.</summary>
    public static async Task<int> CheckAsync(HealthTarget target, TimeSpan timeout, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(output);
        if (target.Address is null)
        {
            await output.WriteLineAsync($"healthy: {target.Reason}; nothing to check");
            return 0;
        }

        using var http = new HttpClient { Timeout = timeout };
        try
        {
            using var response = await http.GetAsync(target.Address, cancellationToken);
            var healthy = response.IsSuccessStatusCode;
            await output.WriteLineAsync($"{(healthy ? "healthy" : "unhealthy")}: GET {target.Address} answered {(int)response.StatusCode} ({target.Reason})");
            return healthy ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await output.WriteLineAsync($"unhealthy: GET {target.Address} failed: {e.Message} ({target.Reason})");
            return 1;
        }
    }
}
