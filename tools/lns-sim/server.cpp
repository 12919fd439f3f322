#include "server.hpp"

#include "eui.hpp"
#include "session.hpp"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/Net/X509Certificate.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <optional>

namespace lns_sim {

namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Object;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

enum class Endpoint { RouterInfo, Traffic };

struct Route {
    Endpoint endpoint;
    uint64_t eui = 0;
};

// /router-info, /traffic/eui-<16 hex> (TTS) or /gateway/<16 hex> (ChirpStack).
std::optional<Route> route(const std::string& path)
{
    if (path == "/router-info") {
        return Route{Endpoint::RouterInfo};
    }
    for (const std::string prefix : {"/traffic/eui-", "/gateway/"}) {
        if (path.rfind(prefix, 0) == 0) {
            if (const auto eui = parse_hex16(std::string_view(path).substr(prefix.size()))) {
                return Route{Endpoint::Traffic, *eui};
            }
        }
    }
    return std::nullopt;
}

const char* endpoint_name(Endpoint endpoint)
{
    return endpoint == Endpoint::RouterInfo ? "router-info" : "traffic";
}

class ActiveConnection {
public:
    explicit ActiveConnection(std::atomic<int>& counter) : counter_(counter) { ++counter_; }
    ~ActiveConnection() { --counter_; }
    ActiveConnection(const ActiveConnection&) = delete;
    ActiveConnection& operator=(const ActiveConnection&) = delete;

private:
    std::atomic<int>& counter_;
};

class RequestHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit RequestHandler(Shared& shared) : shared_(shared) {}

    void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override
    {
        const Options& options = shared_.options;
        std::string path;
        try {
            path = Poco::URI(request.getURI()).getPath();
        } catch (const Poco::Exception&) {
            path = request.getURI();
        }
        const std::string host = request.get("Host", "");
        Object::Ptr headers = new_object();
        for (const auto& [name, value] : request) {
            if (headers->has(name)) {
                headers->set(name, headers->getValue<std::string>(name) + ", " + value);
            } else {
                headers->set(name, value);
            }
        }
        const std::optional<std::string> client_cn = peer_common_name(request);

        auto reject = [&](HTTPResponse::HTTPStatus status, const std::string& reason) {
            Object::Ptr event = new_object();
            event->set("event", "rejected");
            event->set("status", static_cast<int>(status));
            event->set("reason", reason);
            event->set("path", path);
            event->set("host", host);
            event->set("headers", headers);
            event->set("client_cn", client_cn ? Var(*client_cn) : Var());
            shared_.out.event(event, "rejected " + std::to_string(static_cast<int>(status)) + " " +
                                         path + ": " + reason);
            const std::string body = reason + "\n";
            response.setStatusAndReason(status);
            response.setContentType("text/plain");
            response.setContentLength(static_cast<std::streamsize>(body.size()));
            response.setKeepAlive(false);
            response.send() << body;
        };

        const auto target = route(path);
        if (!target) {
            reject(HTTPResponse::HTTP_NOT_FOUND, "unknown path");
            return;
        }
        for (const auto& [name, value] : options.tokens) {
            if (!request.has(name)) {
                reject(HTTPResponse::HTTP_UNAUTHORIZED, "missing header " + name);
                return;
            }
            if (request.get(name) != value) {
                reject(HTTPResponse::HTTP_UNAUTHORIZED, "wrong value of header " + name);
                return;
            }
        }
        if (Poco::icompare(request.get("Upgrade", ""), "websocket") != 0) {
            reject(HTTPResponse::HTTP_BAD_REQUEST, "not a websocket upgrade");
            return;
        }

        std::optional<Poco::Net::WebSocket> ws;
        try {
            ws.emplace(request, response);
        } catch (const Poco::Net::WebSocketException& e) {
            reject(HTTPResponse::HTTP_BAD_REQUEST, "websocket handshake: " + e.message());
            return;
        }

        ConnectionInfo info;
        info.path = path;
        info.host = host;
        info.local_address = ws->address().toString();
        info.eui = target->eui;

        Object::Ptr event = new_object();
        event->set("event", "connect");
        event->set("endpoint", endpoint_name(target->endpoint));
        event->set("path", path);
        event->set("host", host);
        event->set("headers", headers);
        event->set("client_cn", client_cn ? Var(*client_cn) : Var());
        if (target->endpoint == Endpoint::Traffic) {
            event->set("eui", eui_hex_upper(target->eui));
        }
        std::string pretty = "connect " + std::string(endpoint_name(target->endpoint)) + " " +
                             path + " (Host " + host;
        if (client_cn) {
            pretty += ", client CN " + *client_cn;
        }
        shared_.out.event(event, pretty + ")");

        if (target->endpoint == Endpoint::RouterInfo) {
            run_discovery(shared_, *ws, info);
        } else {
            run_traffic(shared_, *ws, info);
        }
    }

private:
    std::optional<std::string> peer_common_name(HTTPServerRequest& request)
    {
        if (!shared_.options.tls()) {
            return std::nullopt;
        }
        try {
            auto& impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl&>(request);
            Poco::Net::SecureStreamSocket secure(impl.socket());
            if (secure.havePeerCertificate()) {
                return secure.peerCertificate().commonName();
            }
        } catch (const std::exception&) {
        }
        return std::nullopt;
    }

    Shared& shared_;
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit HandlerFactory(Shared& shared) : shared_(shared) {}

    Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override
    {
        return new RequestHandler(shared_);
    }

private:
    Shared& shared_;
};

// One accepted TCP connection: TLS handshake first (so that a failed client certificate check
// is reported), then Poco's HTTP connection, which hands the request to RequestHandler.
class Connection : public Poco::Net::TCPServerConnection {
public:
    Connection(const Poco::Net::StreamSocket& socket, Shared& shared,
               Poco::Net::HTTPServerParams::Ptr params,
               Poco::Net::HTTPRequestHandlerFactory::Ptr handlers)
        : TCPServerConnection(socket), shared_(shared), params_(std::move(params)),
          handlers_(std::move(handlers))
    {
    }

    void run() override
    {
        ActiveConnection active(shared_.active_connections);
        std::string peer;
        try {
            peer = socket().peerAddress().toString();
        } catch (const Poco::Exception&) {
        }
        if (shared_.options.tls()) {
            try {
                Poco::Net::SecureStreamSocket secure(socket());
                secure.setReceiveTimeout(Poco::Timespan(10, 0));
                secure.completeHandshake();
            } catch (const Poco::Exception& e) {
                report("tls", peer, e.displayText());
                return;
            }
        }
        try {
            Poco::Net::HTTPServerConnection http(socket(), params_, handlers_);
            http.run();
        } catch (const Poco::Exception& e) {
            // After a websocket session the socket is detached and the HTTP connection ends
            // with an exception; only errors before that are worth a line.
            if (!socket().impl()->initialized()) {
                return;
            }
            report("http", peer, e.displayText());
        } catch (const std::exception& e) {
            report("http", peer, e.what());
        }
    }

private:
    void report(const char* stage, const std::string& peer, const std::string& error)
    {
        Object::Ptr event = new_object();
        event->set("event", "connection_error");
        event->set("stage", stage);
        event->set("peer", peer);
        event->set("error", error);
        shared_.out.event(event, std::string(stage) + " error from " + peer + ": " + error);
    }

    Shared& shared_;
    Poco::Net::HTTPServerParams::Ptr params_;
    Poco::Net::HTTPRequestHandlerFactory::Ptr handlers_;
};

} // namespace

void Shared::request_stop(const std::string& reason)
{
    std::lock_guard lock(mutex_);
    if (stop_reason_.empty()) {
        stop_reason_ = reason;
    }
    stopping = true;
}

std::string Shared::stop_reason()
{
    std::lock_guard lock(mutex_);
    return stop_reason_;
}

std::shared_ptr<std::atomic<bool>> Shared::register_traffic(uint64_t eui)
{
    auto flag = std::make_shared<std::atomic<bool>>(false);
    std::lock_guard lock(mutex_);
    auto& slot = traffic_[eui];
    if (slot) {
        *slot = true;
    }
    slot = flag;
    return flag;
}

void Shared::unregister_traffic(uint64_t eui, const std::shared_ptr<std::atomic<bool>>& flag)
{
    std::lock_guard lock(mutex_);
    const auto it = traffic_.find(eui);
    if (it != traffic_.end() && it->second == flag) {
        traffic_.erase(it);
    }
}

ConnectionFactory::ConnectionFactory(Shared& shared)
    : shared_(shared), params_(new Poco::Net::HTTPServerParams),
      handlers_(new HandlerFactory(shared))
{
    params_->setTimeout(Poco::Timespan(10, 0));
    params_->setKeepAlive(true);
    params_->setServerName("forwarder-lns-sim");
}

Poco::Net::TCPServerConnection*
ConnectionFactory::createConnection(const Poco::Net::StreamSocket& socket)
{
    return new Connection(socket, shared_, params_, handlers_);
}

} // namespace lns_sim
