using Plateau.Coordinator.Hosting;
using Plateau.ServiceDefaults;

// The coordinator silo: configuration from appsettings.json, PLATEAU__… environment variables or
// --Plateau:Coordinator:GrpcPort=5100 style arguments.
var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddEnvironmentVariables("PLATEAU_");
builder.AddServiceDefaults().AddPlateauCoordinator();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapPlateauCoordinator();
await app.RunAsync();
