package dev.gavel.server.api;

import dev.gavel.server.http.Refusal;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.openapi.validation.ValidatorException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * Turns every failure of an API request into the contract's {@code {"error": "..."}}: the validator's message
 * (which names the parameter or body field) for a request that does not match the OpenAPI document, a fixed
 * message for an oversized body, and 500 for anything unexpected (its stack logged once per interval, not once per
 * request).
 */
final class ApiErrors {

    private static final Logger LOG = LoggerFactory.getLogger(ApiErrors.class);

    private ApiErrors() {
    }

    static void handle(RoutingContext ctx) {
        if (ctx.response().ended()) {
            return;
        }
        Throwable failure = ctx.failure();
        int status = ctx.statusCode();
        if (failure instanceof HttpException http) {
            status = http.getStatusCode();
        }
        ValidatorException invalid = validatorException(failure);
        String message;
        String logClass = null;
        if (invalid != null) {
            status = 400;
            message = invalid.getMessage();
            // the validator's message reads "The value of the request body is invalid. Reason: ..."; its type says it
            logClass = "request does not match the API (" + invalid.type().name().toLowerCase(Locale.ROOT).replace('_', ' ') + ")";
        } else if (failure instanceof Refusal refusal) {
            status = refusal.status();
            message = refusal.getMessage();
        } else if (status == 413) {
            message = "request body over " + ApiRoutes.MAX_BODY_BYTES / 1024 + " KiB";
        } else if (status >= 400 && status < 500) {
            message = ctx.response().setStatusCode(status).getStatusMessage();
        } else {
            status = 500;
            message = "internal error";
        }
        LOG.debug("API request {} {} refused with {}: {}", ctx.request().method(), ctx.request().path(), status, message);
        boolean logged = logClass == null ? Refusal.sendError(ctx.response(), status, message)
                : Refusal.sendError(ctx.response(), status, message, logClass);
        if (logged && status == 500) {
            // the first of a series only: a client that can make the API fail must not be able to fill the log
            LOG.warn("API request {} {} failed (the first in this interval; the others are counted)",
                    ctx.request().method(), ctx.request().path(), failure);
        }
    }

    private static ValidatorException validatorException(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ValidatorException invalid) {
                return invalid;
            }
        }
        return null;
    }
}
