using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Grpc.Core;
using Grpc.Net.Client;
using Plateau.Contracts.Errors;
using Plateau.Contracts.Jobs;
using Plateau.Contracts.Specs;
using Plateau.Data.Datasets;
using DatasetSpec = Plateau.Contracts.Specs.DatasetSpec;
using Plateau.Worker.Training;
using Proto = Plateau.Protos.V1;

namespace Plateau.Cli.Commands.Local;

/// <summary>
/// <c>plateau local</c> (README command one): a coordinator and N worker processes on loopback with real
/// gRPC between them, training an SE-ResNet with the central plateau schedule on a synthetic CIFAR set
/// (or the CIFAR-10 / ImageNet folder given), live progress, and a summary at the end. Every child is
/// this same binary (<c>plateau coordinator</c>, <c>plateau worker</c>), run by <see cref="LocalSupervisor"/>
/// (a worker that dies is started again); Ctrl-C cancels the job and kills every child's process tree.
/// The spec comes from <see cref="LocalSpecBuilder"/>, the screen from <see cref="LocalDisplay"/>.
/// </summary>
public static class LocalCommand
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Command Build()
    {
        var data = new Option<string?>("--data") { Description = "CIFAR-10 (binary) or ImageNet folder; default: a synthetic CIFAR-format set generated under .plateau/data." };
        var workers = new Option<int>("--workers") { Description = "Worker processes.", DefaultValueFactory = _ => 2 };
        var devices = new Option<int>("--devices-per-worker") { Description = "CPU \"devices\" (ranks) per worker.", DefaultValueFactory = _ => 1 };
        var model = new Option<string?>("--model") { Description = "Model name (plateau models); default se_resnet20_cifar, se_resnet50 for ImageNet." };
        var epochs = new Option<int>("--epochs") { Description = "Epochs to train.", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch") { Description = "Global batch (split evenly across ranks).", DefaultValueFactory = _ => 128 };
        var lr = new Option<double>("--lr") { Description = "Base learning rate.", DefaultValueFactory = _ => 0.1 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "SGD weight decay.", DefaultValueFactory = _ => 1e-4 };
        var patience = new Option<int>("--patience") { Description = "Plateau patience: evaluations without improvement before the rate drops (0 suits short runs).", DefaultValueFactory = _ => 0 };
        var factor = new Option<double>("--factor") { Description = "Plateau factor: the rate is multiplied by this on a plateau.", DefaultValueFactory = _ => 0.1 };
        var threshold = new Option<double>("--threshold") { Description = "Plateau threshold (relative): smaller improvements do not count.", DefaultValueFactory = _ => 0.02 };
        var trainImages = new Option<int>("--synthetic-train") { Description = "Synthetic training images.", DefaultValueFactory = _ => 5000 };
        var valImages = new Option<int>("--synthetic-val") { Description = "Synthetic validation images.", DefaultValueFactory = _ => 1000 };
        var seed = new Option<long>("--seed") { Description = "Job seed (initial weights, data order, synthetic set).", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "libtorch threads per worker; default: the cores divided among the ranks." };
        var spec = new Option<string?>("--spec") { Description = "A plateau/v1 job spec (YAML/JSON) to run instead of the one built from these options." };
        var dir = new Option<string?>("--dir") { Description = "Folder for state, checkpoints and logs; default .plateau/local-<time>." };
        var plain = new Option<bool>("--plain") { Description = "Plain progress lines even on a terminal." };
        var minWorkers = new Option<int?>("--min-workers") { Description = "Fewest workers the job may continue with after losing some (elastic; default: --workers)." };
        var checkpointTransfer = new Option<string>("--checkpoint-transfer")
        {
            Description = "shared: workers write and read the coordinator's checkpoint folder; network: they upload and download through its CheckpointTransfer service, as workers without a shared filesystem do (Kubernetes).",
            DefaultValueFactory = _ => "shared",
        };
        checkpointTransfer.AcceptOnlyFromAmong("shared", "network");
        var maxCoordinatorRestarts = new Option<int>("--max-coordinator-restarts") { Description = "A coordinator that dies is started again, with every worker, this many times in all.", DefaultValueFactory = _ => LocalSettings.DefaultMaxCoordinatorRestarts };
        var checkpointEverySteps = new Option<int?>("--checkpoint-every-steps") { Description = "Also checkpoint inside an epoch after every N global steps (spec.checkpoint.everySteps; default 0: only at epoch ends)." };
        var evaluation = SpecChoice<EvaluationMode>("--evaluation", "How validation images are scored (spec.evaluation.mode): centerCrop (the default), tenCrop or multiScale; also overrides a --spec file.");
        var dropLast = new Option<bool?>("--drop-last") { Description = "Drop each epoch's last partial batch (spec.batch.dropLast, PyTorch's drop_last; default true); also overrides a --spec file." };
        var compression = SpecChoice<GradientCompression>("--compression", "Gradients on the wire (spec.communication.compression): none (the default), bf16 or fp16; also overrides a --spec file.");
        var maxRestarts = new Option<int>("--max-worker-restarts") { Description = "Worker processes that die are started again, this many times in all.", DefaultValueFactory = _ => LocalSettings.DefaultMaxWorkerRestarts };
        var command = new Command("local", "Train on this machine: a coordinator and N worker processes on loopback, live progress, summary at the end.")
        {
            data, workers, devices, model, epochs, batch, lr, weightDecay, patience, factor, threshold, trainImages, valImages, seed, threads, spec, dir, plain, minWorkers, maxRestarts, checkpointTransfer, checkpointEverySteps, maxCoordinatorRestarts,
            evaluation, dropLast, compression,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = new LocalSettings(
                parseResult.GetValue(data), parseResult.GetValue(workers), parseResult.GetValue(devices), parseResult.GetValue(model),
                parseResult.GetValue(epochs), parseResult.GetValue(batch), parseResult.GetValue(lr), parseResult.GetValue(weightDecay),
                parseResult.GetValue(patience), parseResult.GetValue(factor), parseResult.GetValue(threshold),
                parseResult.GetValue(trainImages), parseResult.GetValue(valImages), parseResult.GetValue(seed), parseResult.GetValue(threads),
                parseResult.GetValue(spec), parseResult.GetValue(dir), parseResult.GetValue(plain) || Console.IsOutputRedirected,
                parseResult.GetResult(workers) is { Implicit: false }, parseResult.GetValue(minWorkers), parseResult.GetValue(maxRestarts),
                NetworkCheckpoints: parseResult.GetValue(checkpointTransfer) == "network", CheckpointEverySteps: parseResult.GetValue(checkpointEverySteps),
                MaxCoordinatorRestarts: parseResult.GetValue(maxCoordinatorRestarts),
                Evaluation: parseResult.GetValue(evaluation), DropLast: parseResult.GetValue(dropLast), Compression: parseResult.GetValue(compression));
            return await RunAsync(settings, Console.Out, cancellationToken);
        });
        return command;
    }
    /// <summary>An option taking one of a spec enum's names as the spec writes them; anything else is refused naming the option and the choices.</summary>
    private static Option<T?> SpecChoice<T>(string name, string description) where T : struct, Enum => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            var match = Enum.GetValues<T>().Where(v => SpecEnumNames.Name(v) == text).Cast<T?>().FirstOrDefault();
            if (match is null)
            {
                result.AddError($"{name} must be one of {string.Join(", ", SpecEnumNames.All(typeof(T)))}, got {Quote.Value(text)}");
            }

            return match;
        },
    };

    /// <summary>Builds the job spec from the options (or reads --spec), checks it, and runs it to the end.</summary>
    public static async Task<int> RunAsync(LocalSettings settings, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        var started = Stopwatch.StartNew();
        var root = Path.GetFullPath(settings.Dir ?? Path.Combine(".plateau", "local-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", Invariant)));
        JobSpec spec;
        try
        {
            spec = LocalSpecBuilder.Build(settings, root, output);
        }
        catch (Exception e) when (e is ArgumentException or JobSpecInvalidException or DatasetFormatException or IOException)
        {
            await output.WriteLineAsync($"plateau local: {e.Message}");
            return 2;
        }

        var problems = JobSpecValidator.Validate(spec, WorkerModels.Check).ToList();
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                await output.WriteLineAsync($"plateau local: {problem.Field}: {problem.Message}");
            }

            return 2;
        }

        var workerCount = spec.Workers.Max;
        var ranks = workerCount * spec.Workers.DevicesPerWorker;
        var threads = settings.Threads > 0 ? settings.Threads : Math.Max(1, Environment.ProcessorCount / ranks) * spec.Workers.DevicesPerWorker;
        Directory.CreateDirectory(Path.Combine(root, "logs"));
        if (settings.MaxWorkerRestarts < 0 || settings.MaxCoordinatorRestarts < 0)
        {
            await output.WriteLineAsync(settings.MaxWorkerRestarts < 0
                ? $"plateau local: --max-worker-restarts must be ≥ 0, got {settings.MaxWorkerRestarts}"
                : $"plateau local: --max-coordinator-restarts must be ≥ 0, got {settings.MaxCoordinatorRestarts}");
            return 2;
        }

        var display = new LocalDisplay(output, settings.Plain);
        await using var children = new LocalSupervisor(Path.Combine(root, "logs"), root, settings.MaxWorkerRestarts, settings.MaxCoordinatorRestarts, display.Supervisor);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            cancel.Cancel();
        });

        var clusterId = "local-" + Guid.NewGuid().ToString("N")[..8];
        var coordinatorSilo = FreePort();
        var grpcPort = FreePort();
        int[] metricsPorts = [.. Enumerable.Range(0, workerCount + 1).Select(_ => FreePort())];
        var secrets = LocalSecrets.Create(root);
        string[] cluster = [$"--Plateau:Cluster:ClusterId={clusterId}", "--Plateau:Cluster:ServiceId=plateau-local", $"--Plateau:Cluster:TlsCertificatePath={secrets.ClusterCertificatePath}"];
        children.Start("coordinator", LocalChildRole.Coordinator, arguments: [
            "coordinator", .. cluster,
            $"--Plateau:Cluster:SiloPort={coordinatorSilo}", $"--Plateau:Cluster:GatewayPort={FreePort()}",
            $"--Plateau:Coordinator:GrpcPort={grpcPort}", "--Plateau:Coordinator:HealthPort=0",
            $"--Plateau:Coordinator:StateDirectory={Path.Combine(root, "state")}",
            $"--Plateau:Checkpoints:RootDirectory={Path.Combine(root, "checkpoints")}",
            $"--Plateau:Coordinator:RendezvousGraceSeconds={RendezvousGraceSeconds(spec.Workers)}", $"--Plateau:Telemetry:MetricsPort={metricsPorts[0]}"],
            environment: new Dictionary<string, string> { [LocalSecrets.CoordinatorTokenVariable] = secrets.Token });

        // Loopback h2c: the token cannot be read off a network, only by this user (who can read its file anyway).
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("authorization", "Bearer " + secrets.Token);
                return Task.CompletedTask;
            })),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
        var client = new Proto.JobService.JobServiceClient(channel);
        var jobId = "local-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", Invariant);
        Proto.Job job;
        try
        {
            job = await SubmitAsync(client, jobId, JobSpecJson.Serialize(spec), children, cancel.Token);
        }
        catch (Exception e) when (e is RpcException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            await output.WriteLineAsync($"plateau local: could not submit the job: {Describe(e)}; coordinator log: {children.LogOf("coordinator")}");
            return cancel.IsCancellationRequested ? 130 : 1;
        }

        await output.WriteLineAsync(string.Create(Invariant,
            $"job {jobId}: {spec.Model.Name} on {Describe(spec.Dataset)}, {workerCount} workers × {spec.Workers.DevicesPerWorker} device(s), {threads} thread(s) each, global batch {(BatchSplit.For(spec.Batch, ranks) is { } split ? split.Global.ToString(Invariant) : "-")}, {spec.Epochs} epochs"));
        for (var w = 0; w < workerCount; w++)
        {
            children.Start($"worker-{w}", LocalChildRole.Worker, arguments: [
                "worker", .. cluster,
                $"--Plateau:Cluster:SiloPort={FreePort()}", "--Plateau:Cluster:GatewayPort=0",
                $"--Plateau:Cluster:PrimarySiloEndpoint=127.0.0.1:{coordinatorSilo}",
                $"--Plateau:Worker:WorkerId=worker-{w}", $"--Plateau:Worker:JobId={jobId}",
                $"--Plateau:Worker:Devices={spec.Workers.DevicesPerWorker}", "--Plateau:Worker:DeviceKind=cpu",
                $"--Plateau:Worker:Threads={threads}", "--Plateau:Worker:DecodeThreads=1", $"--Plateau:Telemetry:MetricsPort={metricsPorts[w + 1]}",
                .. settings.NetworkCheckpoints ? [$"--Plateau:Worker:CheckpointTransferAddress=http://127.0.0.1:{grpcPort}"] : Array.Empty<string>()]);
        }

        await output.WriteLineAsync($"API: http://127.0.0.1:{grpcPort} (token in {secrets.TokenPath}: PLATEAU_COORDINATOR=http://127.0.0.1:{grpcPort} PLATEAU_TOKEN=$(cat {secrets.TokenPath}) plateau job list)");
        await output.WriteLineAsync("metrics (Prometheus): " + string.Join(", ", metricsPorts.Select((port, i) => $"{(i == 0 ? "coordinator" : $"worker-{i - 1}")} http://127.0.0.1:{port}/metrics")));

        var interrupted = false;
        try
        {
            job = await WatchAsync(client, jobId, display, children, cancel.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException && cancel.IsCancellationRequested)
        {
            interrupted = true;
            await output.WriteLineAsync("plateau local: interrupted; cancelling the job and stopping every process");
            try
            {
                job = await client.CancelJobAsync(new Proto.CancelJobRequest { JobId = jobId, Reason = "interrupted (Ctrl-C)" }, deadline: DateTime.UtcNow.AddSeconds(3), cancellationToken: CancellationToken.None);
            }
            catch (RpcException)
            {
                // the coordinator is going away with everything else
            }
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            await output.WriteLineAsync($"plateau local: lost the coordinator: {Describe(e)}; coordinator log: {children.LogOf("coordinator")}");
            return 1;
        }

        children.StopRestarting();
        if (!interrupted)
        {
            // Workers leave by themselves once the job ends; the coordinator is stopped after them.
            await children.WaitForExitAsync(c => c.StartsWith("worker-", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        }

        if (!interrupted)
        {
            // The job's state once its workers are gone: the checkpoint taken at the end of training commits after
            // the job completes, and the summary names it.
            job = await LatestAsync(client, jobId) ?? job;
        }

        var report = await WriteReportAsync(client, jobId, Path.Combine(root, "report.html"));
        await children.DisposeAsync();
        display.Summary(job, started.Elapsed, Path.Combine(root, "checkpoints", jobId), Path.Combine(root, "logs"), children.Restarts, children.CoordinatorRestarts);
        await output.WriteLineAsync($"report: {report}");
        return interrupted ? 130 : job.Phase == Proto.JobPhase.Completed ? 0 : 1;
    }

    private static async Task<Proto.Job?> LatestAsync(Proto.JobService.JobServiceClient client, string jobId)
    {
        try
        {
            return await client.GetJobAsync(new Proto.GetJobRequest { JobId = jobId }, deadline: DateTime.UtcNow.AddSeconds(15));
        }
        catch (RpcException)
        {
            return null; // the summary then shows the job as the watch last saw it
        }
    }

    /// <summary>The run report, written while the coordinator is still up; the path, or why there is none.</summary>
    private static async Task<string> WriteReportAsync(Proto.JobService.JobServiceClient client, string jobId, string path)
    {
        try
        {
            await Reports.RunReportWriter.WriteAsync(client, jobId, path, TimeSpan.FromSeconds(15), CancellationToken.None);
            return path;
        }
        catch (Exception e) when (e is RpcException or IOException or UnauthorizedAccessException)
        {
            return $"not written ({Describe(e)})";
        }
    }

    private static async Task<Proto.Job> SubmitAsync(Proto.JobService.JobServiceClient client, string jobId, string spec, LocalSupervisor children, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            try
            {
                return await client.SubmitJobAsync(new Proto.SubmitJobRequest { JobId = jobId, Spec = spec }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancellationToken);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < deadline)
            {
                if (children.Exited("coordinator") is { } code)
                {
                    throw new InvalidOperationException($"the coordinator exited with code {code}");
                }

                await Task.Delay(500, cancellationToken);
            }
        }
    }

    private static async Task<Proto.Job> WatchAsync(Proto.JobService.JobServiceClient client, string jobId, LocalDisplay display, LocalSupervisor children, CancellationToken cancellationToken)
    {
        long after = 0;
        Proto.Job? snapshot = null;
        while (true)
        {
            try
            {
                using var call = client.WatchJob(new Proto.WatchJobRequest { JobId = jobId, AfterSequence = after }, cancellationToken: cancellationToken);
                await foreach (var update in call.ResponseStream.ReadAllAsync(cancellationToken))
                {
                    switch (update.UpdateCase)
                    {
                        case Proto.JobUpdate.UpdateOneofCase.Snapshot:
                            snapshot = update.Snapshot;
                            display.Snapshot(snapshot);
                            break;
                        case Proto.JobUpdate.UpdateOneofCase.Event:
                            after = Math.Max(after, update.Event.Sequence);
                            display.Event(update.Event);
                            break;
                        case Proto.JobUpdate.UpdateOneofCase.Progress:
                            display.Progress(update.Progress);
                            break;
                    }
                }

                var final = await client.GetJobAsync(new Proto.GetJobRequest { JobId = jobId }, cancellationToken: cancellationToken);
                if (final.Phase is Proto.JobPhase.Completed or Proto.JobPhase.Failed or Proto.JobPhase.Cancelled)
                {
                    return final;
                }
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.DeadlineExceeded && !cancellationToken.IsCancellationRequested)
            {
                if (children.Exited("coordinator") is { } code)
                {
                    throw new InvalidOperationException($"the coordinator exited with code {code}", e);
                }

                await Task.Delay(500, cancellationToken);
            }

            _ = snapshot;
        }
    }

    private static string Describe(DatasetSpec dataset) => dataset.Kind switch
    {
        DatasetKind.Synthetic => $"the synthetic set ({dataset.Options.GetValueOrDefault("train")} train / {dataset.Options.GetValueOrDefault("validation")} validation images)",
        _ => $"{dataset.Kind} at {dataset.Path}",
    };

    private static string Describe(Exception e) => e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message;

    /// <summary>
    /// After <c>workers.min</c> have joined, how long the coordinator waits for the rest. An elastic run
    /// (min &lt; max) must not form without workers that are merely slow to start on a busy machine; a
    /// fixed-size one forms the moment all have joined, so the grace never delays it.
    /// </summary>
    private static int RendezvousGraceSeconds(WorkersSpec workers) => workers.Min < workers.Max ? 10 : 1;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
