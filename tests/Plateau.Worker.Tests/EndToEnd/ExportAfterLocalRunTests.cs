using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Plateau.Models.Architecture;
using Plateau.Models.Serialization;
using Plateau.Models.Zoo;
using static TorchSharp.torch;

namespace Plateau.Worker.Tests.EndToEnd;

/// <summary>
/// Weights out, the whole way: <c>plateau local</c> trains resnet18 for an epoch and leaves its state and
/// checkpoint behind; a new <c>plateau coordinator</c> on that state serves <c>plateau export</c>; the file
/// loads into torchvision with <c>load_state_dict(strict=True)</c> and gives Plateau's eval logits.
/// </summary>
[Collection(LocalRunsTakeTurns.Name)]
public sealed partial class ExportAfterLocalRunTests : IDisposable
{
    /// <summary>The token the restarted coordinator accepts (authentication is on by default).</summary>
    private const string Token = "export-test-token-0123456789";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "plateau-export-e2e-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    [Trait("Category", "Slow")]
    public async Task ATrainedJobsExportLoadsStrictlyIntoTorchvisionAndGivesPlateausLogits()
    {
        // The run's folder (state, checkpoints) outlives the run: LocalRun removes it when disposed, at the end.
        using var run = LocalRun.Start(_folder, "--workers", "1", "--model", "resnet18", "--epochs", "1", "--batch", "32",
            "--synthetic-train", "64", "--synthetic-val", "32");
        var exit = await run.WaitForExitAsync(TimeSpan.FromMinutes(5));
        Assert.True(exit == 0, $"plateau local exited {exit}:\n{run.Output}\n{run.Logs()}");
        var jobId = CompletedJob().Match(run.Output).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(jobId), run.Output);

        var grpcPort = FreePort();
        using var coordinator = Start("coordinator",
            $"--Plateau:Coordinator:StateDirectory={Path.Combine(_folder, "state")}",
            $"--Plateau:Checkpoints:RootDirectory={Path.Combine(_folder, "checkpoints")}",
            $"--Plateau:Coordinator:GrpcPort={grpcPort}", "--Plateau:Coordinator:HealthPort=0",
            $"--Plateau:Cluster:SiloPort={FreePort()}", $"--Plateau:Cluster:GatewayPort={FreePort()}",
            $"--Plateau:Api:Auth:Tokens:0={Token}");
        var coordinatorOutput = new System.Text.StringBuilder();
        coordinator.OutputDataReceived += (_, line) => { lock (coordinatorOutput) { coordinatorOutput.AppendLine(line.Data); } };
        coordinator.ErrorDataReceived += (_, line) => { lock (coordinatorOutput) { coordinatorOutput.AppendLine(line.Data); } };
        coordinator.BeginOutputReadLine();
        coordinator.BeginErrorReadLine();
        var target = Path.Combine(_folder, "model.safetensors");
        int exportExit;
        string exportOutput;
        try
        {
            await WaitUntilListeningAsync(grpcPort, coordinator, TimeSpan.FromSeconds(90));
            (exportExit, exportOutput) = await RunAsync(Start("export", jobId, "--out", target, "--coordinator", $"http://127.0.0.1:{grpcPort}", "--token", Token, "--timeout", "60"));
        }
        finally
        {
            coordinator.Kill(entireProcessTree: true);
            await coordinator.WaitForExitAsync();
        }

        Assert.True(exportExit == 0, $"{exportOutput}\ncoordinator:\n{coordinatorOutput}");

        using var model = ModelRegistry.Create("resnet18", new ModelOptions { NumClasses = 10 });
        var metadata = ModelWeights.Load(model, target);
        model.eval();
        manual_seed(3);
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var input = randn(2, 3, 32, 32);
            SafeTensors.Save(Path.Combine(_folder, "probe.safetensors"), [new("input", input), new("logits", model.forward(input))]);
        }

        var (checkExit, checkOutput) = await RunAsync(Python("check-export", _folder, "resnet18", "10"));

        Assert.Matches($@"^{Regex.Escape(target)}: checkpoint ckpt-\S+ of job {jobId}, \d+ bytes", exportOutput);
        Assert.Equal(("pt", "resnet18", jobId), (metadata["format"], metadata["plateau.model"], metadata["plateau.job"]));
        Assert.True(checkExit == 0, checkOutput);
        Assert.Contains("tensors strictly; format=pt", checkOutput, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // LocalRun already removed it, or a file is still held.
        }
    }

    private static Process Start(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "plateau")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(command);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    private static Process Python(params string[] arguments)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Orleans.sln")))
        {
            directory = directory.Parent;
        }

        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(directory!.FullName, "tests", "interop", "torchvision_weights.py"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["OMP_NUM_THREADS"] = "1";
        return Process.Start(start)!;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(Process process)
    {
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await process.WaitForExitAsync(limit.Token);
            return (process.ExitCode, (await output) + (await error));
        }
    }

    /// <summary>Waits for the coordinator's gRPC port to accept connections (it starts in seconds, or minutes on a busy machine).</summary>
    private static async Task WaitUntilListeningAsync(int port, Process coordinator, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            using var client = new TcpClient();
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !coordinator.HasExited)
            {
                await Task.Delay(200);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"job (\S+): completed")]
    private static partial Regex CompletedJob();
}
