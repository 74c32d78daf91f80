/** The app: signs in when needed, then routes to the pages inside the common layout. */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { Navigate, Route, Routes, useLocation } from "react-router";
import { ApiError, onUnauthenticated } from "./api/client.js";
import { keys, useMe } from "./api/hooks.js";
import { ErrorNote, Loading } from "./components/feedback.js";
import { Layout } from "./components/layout.js";
import { AccountPage } from "./pages/account.js";
import { AdminPage } from "./pages/admin.js";
import { FilesPage } from "./pages/files.js";
import { LoginPage } from "./pages/login.js";
import { ModelPage, ModelsPage } from "./pages/models.js";
import { DeploymentPage, DeploymentsPage } from "./pages/deployments.js";
import { PipelinePage } from "./pages/pipeline.js";
import { PipelinesPage } from "./pages/pipelines.js";
import { PoolsPage } from "./pages/pools.js";
import { SecretsPage } from "./pages/secrets.js";
import { ConnectionsPage } from "./pages/connections.js";
import { RunPage } from "./pages/run.js";
import { RunsPage } from "./pages/runs.js";
import { SandboxesPage } from "./pages/sandboxes.js";
import { SharePage } from "./pages/share.js";
import { TaskPage } from "./pages/task.js";

function NotFound() {
  return <ErrorNote error={new Error("There is no such page.")} />;
}

export function App() {
  // A share link (/s/ID) opens without signing in.
  return useLocation().pathname.startsWith("/s/") ? <Routes><Route path="/s/:id" element={<SharePage />} /></Routes> : <SignedInApp />;
}

function SignedInApp() {
  const me = useMe();
  const client = useQueryClient();
  useEffect(() => onUnauthenticated(() => void client.invalidateQueries({ queryKey: keys.me })), [client]);

  if (me.isLoading) return <Loading what="Capstan" />;
  if (me.error instanceof ApiError && me.error.status === 401) return <LoginPage />;
  if (me.error) return <ErrorNote error={me.error} />;

  return (
    <Layout>
      <Routes>
        <Route path="/" element={<Navigate to="/pipelines" replace />} />
        <Route path="/pipelines" element={<PipelinesPage />} />
        <Route path="/pipelines/:id" element={<PipelinePage />} />
        <Route path="/runs" element={<RunsPage />} />
        <Route path="/runs/:run" element={<RunPage />} />
        <Route path="/runs/:run/tasks/:task" element={<TaskPage />} />
        <Route path="/pools" element={<PoolsPage />} />
        <Route path="/models" element={<ModelsPage />} />
        <Route path="/models/:name" element={<ModelPage />} />
        <Route path="/deployments" element={<DeploymentsPage />} />
        <Route path="/deployments/:name" element={<DeploymentPage />} />
        <Route path="/sandboxes" element={<SandboxesPage />} />
        <Route path="/files" element={<FilesPage />} />
        <Route path="/files/:volume/*" element={<FilesPage />} />
        <Route path="/secrets" element={<SecretsPage />} />
        <Route path="/connections" element={<ConnectionsPage />} />
        <Route path="/account" element={<AccountPage />} />
        <Route path="/admin" element={<AdminPage />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </Layout>
  );
}
